package dev.legate.filters.http.lua;

import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.OneArgFunction;
import org.luaj.vm2.lib.TwoArgFunction;
import org.luaj.vm2.lib.VarArgFunction;

/**
 * What Envoy's scripts expect from LuaJIT (Lua 5.1 plus LuaJIT's extensions) that LuaJ's Lua 5.2 lacks:
 * {@code unpack}, {@code loadstring}, {@code table.getn}, {@code math.mod}, LuaJIT's {@code bit} library (signed
 * 32-bit results, as LuaJIT's), and a {@code pairs} that honours a {@code __pairs} metamethod (Lua 5.2
 * semantics, which Envoy's header, metadata and dynamic-metadata objects rely on; LuaJ 3.0.1's {@code pairs}
 * takes tables only). Not provided: {@code setfenv}/{@code getfenv} and {@code module} (5.1 environments).
 */
final class LuaCompat {

    private LuaCompat() {
    }

    static void install(Globals g) {
        LuaValue table = g.get("table");
        g.set("unpack", table.get("unpack"));
        g.set("loadstring", g.get("load"));
        table.set("getn", new OneArgFunction() {
            @Override
            public LuaValue call(LuaValue t) {
                return valueOf(t.checktable().length());
            }
        });
        LuaValue math = g.get("math");
        if (math.get("mod").isnil()) {
            math.set("mod", math.get("fmod"));
        }
        LuaValue rawPairs = g.get("pairs");
        g.set("pairs", new VarArgFunction() {
            @Override
            public Varargs invoke(Varargs args) {
                LuaValue v = args.arg1();
                LuaValue mt = v.getmetatable();
                if (mt != null) {
                    LuaValue p = mt.rawget("__pairs");
                    if (!p.isnil()) {
                        return p.invoke(v);
                    }
                }
                return rawPairs.invoke(args);
            }
        });
        g.set("bit", bit());
    }

    /** LuaJIT's {@code bit} module: operands are taken modulo 2^32, results are signed 32-bit numbers. */
    static LuaTable bit() {
        LuaTable bit = new LuaTable();
        bit.set("tobit", new OneArgFunction() {
            @Override
            public LuaValue call(LuaValue a) {
                return valueOf(tobit(a));
            }
        });
        bit.set("bnot", new OneArgFunction() {
            @Override
            public LuaValue call(LuaValue a) {
                return valueOf(~tobit(a));
            }
        });
        bit.set("bswap", new OneArgFunction() {
            @Override
            public LuaValue call(LuaValue a) {
                return valueOf(Integer.reverseBytes(tobit(a)));
            }
        });
        bit.set("tohex", new TwoArgFunction() {
            @Override
            public LuaValue call(LuaValue a, LuaValue n) {
                int digits = n.isnil() ? 8 : n.checkint();
                boolean upper = digits < 0;
                digits = Math.min(8, Math.abs(digits));
                String hex = String.format("%08x", tobit(a));
                hex = hex.substring(8 - digits);
                return valueOf(upper ? hex.toUpperCase() : hex);
            }
        });
        bit.set("band", fold(0));
        bit.set("bor", fold(1));
        bit.set("bxor", fold(2));
        bit.set("lshift", shift(0));
        bit.set("rshift", shift(1));
        bit.set("arshift", shift(2));
        bit.set("rol", shift(3));
        bit.set("ror", shift(4));
        return bit;
    }

    static int tobit(LuaValue v) {
        double d = v.checkdouble();
        // LuaJIT: the number is normalised modulo 2^32 and returned as a signed 32-bit integer
        long l = (long) d;
        if (Math.abs(d) >= 9.007199254740992E15) {
            l = (long) (d % 4294967296.0);
        }
        return (int) l;
    }

    private static VarArgFunction fold(int op) {
        return new VarArgFunction() {
            @Override
            public Varargs invoke(Varargs args) {
                int r = tobit(args.arg1());
                for (int i = 2; i <= args.narg(); i++) {
                    int b = tobit(args.arg(i));
                    r = switch (op) {
                        case 0 -> r & b;
                        case 1 -> r | b;
                        default -> r ^ b;
                    };
                }
                return valueOf(r);
            }
        };
    }

    private static TwoArgFunction shift(int op) {
        return new TwoArgFunction() {
            @Override
            public LuaValue call(LuaValue a, LuaValue n) {
                int x = tobit(a);
                int s = tobit(n) & 31;
                return valueOf(switch (op) {
                    case 0 -> x << s;
                    case 1 -> x >>> s;
                    case 2 -> x >> s;
                    case 3 -> Integer.rotateLeft(x, s);
                    default -> Integer.rotateRight(x, s);
                });
            }
        };
    }
}
