package dev.legate.api.matcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import dev.legate.api.ConfigException;
import dev.legate.api.http.HeaderMap;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class HeaderMatchersTest {

    private static final HeaderMap NONE = ListHeaderMap.of(":path", "/");

    private static Predicate<HeaderMap> compile(String textProto) {
        try {
            return HeaderMatchers.compile(TextFormat.parse(textProto, HeaderMatcher.class), "headers[0]");
        } catch (TextFormat.ParseException e) {
            throw new AssertionError(e);
        }
    }

    private static HeaderMap x(String... values) {
        ListHeaderMap h = ListHeaderMap.of(":path", "/");
        for (String v : values) {
            h.add("x", v);
        }
        return h;
    }

    private static void assertError(String textProto, String message) {
        assertThatThrownBy(() -> compile(textProto)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void stringMatchOnTheValuesJoinedWithComma() {
        Predicate<HeaderMap> m = compile("name: 'X' string_match { exact: '1,2' }");
        assertThat(m).accepts(x("1", "2"), x("1,2")).rejects(x("1"), x("2", "1"), NONE);
        assertThat(compile("name: 'x' string_match { prefix: 'Ye' ignore_case: true }")).accepts(x("yes")).rejects(x("no"));
    }

    @SuppressWarnings("deprecation")
    @Test
    void deprecatedSpecifiers() {
        assertThat(compile("name: 'x' exact_match: 'a'")).accepts(x("a")).rejects(x("A"), x("ab"), NONE);
        assertThat(compile("name: 'x' exact_match: ''")).as("empty exact_match: any value").accepts(x("a"), x(""))
                .rejects(NONE);
        assertThat(compile("name: 'x' prefix_match: 'a'")).accepts(x("ab")).rejects(x("ba"));
        assertThat(compile("name: 'x' suffix_match: 'a'")).accepts(x("ba")).rejects(x("ab"));
        assertThat(compile("name: 'x' contains_match: 'a'")).accepts(x("bab")).rejects(x("bb"));
        assertThat(compile("name: 'x' safe_regex_match { regex: '\\\\d+' }")).accepts(x("12")).rejects(x("12a"));
    }

    @Test
    void rangeMatchIsHalfOpenOnAWholeInteger() {
        Predicate<HeaderMap> m = compile("name: 'x' range_match { start: -10 end: 20 }");
        assertThat(m).accepts(x("-10"), x("0"), x("19")).rejects(x("20"), x("-11"), x("1.5"), x("abc"), x(""), NONE);
    }

    @Test
    void presenceAndMissingHeaders() {
        assertThat(compile("name: 'x'")).as("no specifier: present").accepts(x("")).rejects(NONE);
        assertThat(compile("name: 'x' present_match: true")).accepts(x("v")).rejects(NONE);
        assertThat(compile("name: 'x' present_match: false")).accepts(NONE).rejects(x("v"));
        assertThat(compile("name: 'x' present_match: true invert_match: true")).accepts(NONE).rejects(x("v"));
        assertThat(compile("name: 'x' invert_match: true")).accepts(NONE).rejects(x("v"));
        assertThat(compile("name: 'x' present_match: false invert_match: true")).accepts(x("v")).rejects(NONE);
    }

    @Test
    void anInvertedValueMatcherStillNeedsTheHeader() {
        Predicate<HeaderMap> m = compile("name: 'x' string_match { exact: 'no' } invert_match: true");
        assertThat(m).accepts(x("yes")).rejects(x("no"), NONE);
    }

    @Test
    void treatMissingHeaderAsEmptyMatchesTheEmptyString() {
        assertThat(compile("name: 'x' string_match { safe_regex { regex: 'a*' } } treat_missing_header_as_empty: true"))
                .accepts(NONE, x("aa")).rejects(x("b"));
        assertThat(compile("name: 'x' string_match { exact: 'a' } invert_match: true treat_missing_header_as_empty: true"))
                .accepts(NONE, x("b")).rejects(x("a"));
        assertThat(compile("name: 'x' present_match: true treat_missing_header_as_empty: true")).accepts(NONE, x("v"));
        assertThat(compile("name: 'x' range_match { start: 0 end: 9 } treat_missing_header_as_empty: true"))
                .rejects(NONE);
    }

    @Test
    void errorsNameTheField() {
        assertError("exact_match: 'x'", "headers[0].name: \"\" (expected: a header name)");
        assertError("name: 'a' safe_regex_match { regex: '(' }",
                "headers[0].safe_regex_match.regex: \"(\" (expected: a valid regex: missing closing ) at \"(\")");
        assertError("name: 'a' range_match { start: 5 end: 5 }", "headers[0].range_match: [5, 5) (expected: start < end)");
        assertError("name: 'a' prefix_match: ''", "headers[0].prefix_match: \"\" (expected: non-empty)");
        assertError("name: 'a' suffix_match: ''", "headers[0].suffix_match: \"\" (expected: non-empty)");
        assertError("name: 'a' contains_match: ''", "headers[0].contains_match: \"\" (expected: non-empty)");
        assertError("name: 'a' string_match { prefix: '' }", "headers[0].string_match.prefix: \"\" (expected: non-empty)");
        assertError("name: 'a' string_match { ignore_case: true }",
                "headers[0].string_match: missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
    }
}
