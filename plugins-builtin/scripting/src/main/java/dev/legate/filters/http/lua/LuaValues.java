package dev.legate.filters.http.lua;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Varargs;

/** Conversions between Lua values, protobuf {@code Struct}s (route metadata) and plain Java values (dynamic metadata). */
final class LuaValues {

    private LuaValues() {
    }

    static LuaValue of(Value v) {
        return switch (v.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> LuaValue.NIL;
            case NUMBER_VALUE -> LuaValue.valueOf(v.getNumberValue());
            case STRING_VALUE -> LuaValue.valueOf(v.getStringValue());
            case BOOL_VALUE -> LuaValue.valueOf(v.getBoolValue());
            case STRUCT_VALUE -> of(v.getStructValue());
            case LIST_VALUE -> of(v.getListValue());
        };
    }

    static LuaTable of(Struct s) {
        LuaTable t = new LuaTable();
        s.getFieldsMap().forEach((k, v) -> t.set(k, of(v)));
        return t;
    }

    static LuaTable of(ListValue l) {
        LuaTable t = new LuaTable();
        for (int i = 0; i < l.getValuesCount(); i++) {
            t.set(i + 1, of(l.getValues(i)));
        }
        return t;
    }

    /** A Java value (String, Number, Boolean, Map, List) as Lua. */
    static LuaValue ofJava(Object o) {
        if (o == null) {
            return LuaValue.NIL;
        }
        if (o instanceof String s) {
            return LuaValue.valueOf(s);
        }
        if (o instanceof Integer || o instanceof Long) {
            return LuaValue.valueOf(((Number) o).doubleValue());
        }
        if (o instanceof Number n) {
            return LuaValue.valueOf(n.doubleValue());
        }
        if (o instanceof Boolean b) {
            return LuaValue.valueOf(b);
        }
        if (o instanceof Map<?, ?> m) {
            LuaTable t = new LuaTable();
            m.forEach((k, v) -> t.set(ofJava(k), ofJava(v)));
            return t;
        }
        if (o instanceof List<?> l) {
            LuaTable t = new LuaTable();
            for (int i = 0; i < l.size(); i++) {
                t.set(i + 1, ofJava(l.get(i)));
            }
            return t;
        }
        return LuaValue.valueOf(o.toString());
    }

    /** A Lua value as Java: string, number (Long when integral), boolean, table as List (a sequence) or Map. */
    static Object toJava(LuaValue v) {
        switch (v.type()) {
            case LuaValue.TNIL:
                return null;
            case LuaValue.TBOOLEAN:
                return v.toboolean();
            case LuaValue.TNUMBER: {
                double d = v.todouble();
                return d == Math.rint(d) && Math.abs(d) < 9.007199254740992E15 ? (Object) (long) d : (Object) d;
            }
            case LuaValue.TSTRING:
                return v.tojstring();
            case LuaValue.TTABLE: {
                LuaTable t = (LuaTable) v;
                int n = t.length();
                int keys = 0;
                LuaValue k = LuaValue.NIL;
                while (true) {
                    Varargs e = t.next(k);
                    if ((k = e.arg1()).isnil()) {
                        break;
                    }
                    keys++;
                }
                if (n > 0 && n == keys) {
                    List<Object> list = new ArrayList<>(n);
                    for (int i = 1; i <= n; i++) {
                        list.add(toJava(t.get(i)));
                    }
                    return list;
                }
                Map<String, Object> map = new LinkedHashMap<>();
                k = LuaValue.NIL;
                while (true) {
                    Varargs e = t.next(k);
                    if ((k = e.arg1()).isnil()) {
                        break;
                    }
                    map.put(k.tojstring(), toJava(e.arg(2)));
                }
                return map;
            }
            default:
                return v.tojstring();
        }
    }
}
