package dev.legate.api.matcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class RegexMatchersTest {

    private static CompiledRegex compile(String regex) {
        return RegexMatchers.compile(RegexMatcher.newBuilder().setRegex(regex).build(), "r");
    }

    private static void assertError(String regex, String message) {
        assertThatThrownBy(() -> compile(regex)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void matchesTheWholeInput() {
        CompiledRegex r = compile("[a-c]+");
        assertThat(r.fullMatch("abc")).isTrue();
        assertThat(r.fullMatch("abcd")).isFalse();
        assertThat(r.fullMatch("")).isFalse();
        assertThat(r.pattern()).isEqualTo("[a-c]+");
    }

    /**
     * Catastrophic backtracking for java.util.regex ((a+)+$ on a long run of a's that then fails: exponential time),
     * and a stack overflow for it ((a|b)* recurses once per character). RE2/J answers both in linear time.
     */
    @Test
    @Timeout(10)
    void pathologicalPatternsAnswerPromptlyWithoutOverflowingTheStack() {
        String as = "a".repeat(10_000) + "!";
        assertThat(compile("(a+)+$").fullMatch(as)).isFalse();
        assertThat(compile("(a+)+$").fullMatch("a".repeat(10_000))).isTrue();
        assertThat(compile("(a|b)*").fullMatch("ab".repeat(50_000))).isTrue();
        assertThat(compile("(x+x+)+y").replaceAll("x".repeat(10_000), "z")).isEqualTo("x".repeat(10_000));
    }

    @Test
    void replaceAllUsesDollarGroupReferences() {
        CompiledRegex r = compile("^/service/([^/]+)(/.*)$");
        assertThat(r.groupCount()).isEqualTo(2);
        assertThat(r.replaceAll("/service/foo/v1/api", "$2/instance/$1")).isEqualTo("/v1/api/instance/foo");
        assertThat(compile("o").replaceAll("foo", "\\$\\\\")).isEqualTo("f$\\$\\");
    }

    @Test
    void refusesWhatRe2Refuses() {
        assertError("", "r.regex: \"\" (expected: a regex)");
        assertError("(", "r.regex: \"(\" (expected: a valid regex: missing closing ) at \"(\")");
        // Backreferences and lookaround are not RE2 (Envoy refuses them too).
        assertError("(a)\\1", "r.regex: \"(a)\\\\1\" (expected: a valid regex: invalid escape sequence at \"\\\\1\")");
        assertError("(?=a)b", "r.regex: \"(?=a)b\" (expected: a valid regex: invalid or unsupported Perl syntax "
                + "at \"(?=\")");
        assertError("a{1001}", "r.regex: \"a{1001}\" (expected: a valid regex: invalid repeat count at \"{1001}\")");
    }

    /** RE2/J's parser recurses per level: on a 256 KiB stack 10,000 levels overflow it, which is a config error. */
    @Test
    @Timeout(10)
    void refusesARegexNestedTooDeeply() throws InterruptedException {
        String deep = "(".repeat(10_000) + "a" + ")".repeat(10_000);
        Throwable[] thrown = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                compile(deep);
            } catch (Throwable e) {
                thrown[0] = e;
            }
        }, "small-stack", 256 * 1024);
        t.start();
        t.join();
        assertThat(thrown[0]).isInstanceOf(ConfigException.class)
                .hasMessageEndingWith(" (expected: a valid regex: expression nests too deeply)");
    }

    @Test
    void regexErrorsQuoteTheRegexEscaped() {
        assertError("\\d\"(\n", "r.regex: \"\\\\d\\\"(\\n\" (expected: a valid regex: missing closing ) "
                + "at \"\\\\d\\\"(\\n\")");
    }
}
