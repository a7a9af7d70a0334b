package dev.legate.api.matcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class StringMatchersTest {

    private static Predicate<String> compile(String textProto) {
        try {
            return StringMatchers.compile(TextFormat.parse(textProto, StringMatcher.class), "m");
        } catch (TextFormat.ParseException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertError(String textProto, String message) {
        assertThatThrownBy(() -> compile(textProto)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void exactPrefixSuffixContainsAreCaseSensitiveByDefault() {
        assertThat(compile("exact: 'Ab'")).accepts("Ab").rejects("ab", "Abc", "");
        assertThat(compile("exact: ''")).accepts("").rejects("a");
        assertThat(compile("prefix: 'Ab'")).accepts("Ab", "Abc").rejects("ab", "A", "xAb");
        assertThat(compile("suffix: 'Ab'")).accepts("Ab", "xAb").rejects("xab", "b", "Abx");
        assertThat(compile("contains: 'Ab'")).accepts("Ab", "xAby").rejects("xaby", "A");
    }

    @Test
    void ignoreCaseFoldsAsciiLettersOnly() {
        assertThat(compile("exact: 'Ab' ignore_case: true")).accepts("ab", "AB").rejects("abc", "a");
        assertThat(compile("prefix: 'Ab' ignore_case: true")).accepts("aB", "abc").rejects("a", "xab");
        assertThat(compile("suffix: 'Ab' ignore_case: true")).accepts("xAB", "ab").rejects("b", "abx");
        assertThat(compile("contains: 'Ab' ignore_case: true")).accepts("xaBy").rejects("a b");
        // As absl::EqualsIgnoreCase: the Kelvin sign is not a 'k', 'İ' is not an 'i'.
        assertThat(compile("exact: 'k' ignore_case: true")).rejects("\u212A");
        assertThat(compile("contains: 'i' ignore_case: true")).rejects("\u0130");
    }

    @Test
    void safeRegexIsAFullMatch() {
        assertThat(compile("safe_regex { regex: 'a+b' }")).accepts("ab", "aaab").rejects("xab", "abx", "");
        assertThat(compile("safe_regex { google_re2 {} regex: '.*' }")).accepts("", "anything");
    }

    @Test
    void errorsNameTheField() {
        assertError("ignore_case: true", "m: missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
        assertError("prefix: ''", "m.prefix: \"\" (expected: non-empty)");
        assertError("suffix: ''", "m.suffix: \"\" (expected: non-empty)");
        assertError("contains: ''", "m.contains: \"\" (expected: non-empty)");
        assertError("safe_regex { regex: '' }", "m.safe_regex.regex: \"\" (expected: a regex)");
        assertError("safe_regex { regex: '(' }",
                "m.safe_regex.regex: \"(\" (expected: a valid regex: missing closing ) at \"(\")");
        assertError("safe_regex { regex: 'a.*' } ignore_case: true",
                "m.ignore_case: true (expected: false with safe_regex; ignore_case has no effect for safe_regex)");
        assertError("custom { name: 'x' }", "m.custom: not supported yet");
    }
}
