/**
 * Envoy's matcher protos compiled once at load into immutable, thread-safe predicates that every plugin can
 * share: {@link dev.legate.api.matcher.StringMatchers} ({@code type.matcher.v3.StringMatcher}),
 * {@link dev.legate.api.matcher.RegexMatchers} ({@code type.matcher.v3.RegexMatcher}) and
 * {@link dev.legate.api.matcher.HeaderMatchers} ({@code config.route.v3.HeaderMatcher}), after Envoy's
 * {@code source/common/common/matchers.cc} and {@code source/common/http/header_utility.cc}.
 *
 * <p>They live in the SPI because plugins cannot share classes with each other (each has its own PF4J class
 * loader): the route table, the fault filter and the CORS filter all match with these. Compiling runs on the main
 * thread and reports a config Legate cannot run as a {@link dev.legate.api.ConfigException} naming the field;
 * the compiled predicates run on any event loop, never block and never throw because of traffic.
 *
 * <p>Regexes are {@link java.util.regex} where Envoy uses RE2: the common syntax is the same and every match is a
 * full match, but RE2's linear-time guarantee does not hold, and a few constructs differ (Java accepts
 * backreferences and lookaround, which RE2 refuses).
 */
package dev.legate.api.matcher;
