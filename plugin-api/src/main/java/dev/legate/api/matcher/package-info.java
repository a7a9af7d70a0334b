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
 * <p>Regexes are RE2, as in Envoy, run by RE2/J ({@code com.google.re2j}, Google's Java port of RE2; see
 * {@link dev.legate.api.matcher.CompiledRegex}): the same syntax (backreferences and lookaround are config errors,
 * as in Envoy), every match a full match, and matching in time linear in the input without backtracking or
 * recursion, so request-controlled strings cannot stall an event loop.
 */
package dev.legate.api.matcher;
