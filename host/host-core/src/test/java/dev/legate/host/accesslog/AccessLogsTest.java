package dev.legate.host.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.ResponseFlag;
import dev.legate.api.http.HeaderMap;
import dev.legate.host.http.NettyHeaderMap;
import dev.legate.host.stream.StreamInfoImpl;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter;
import io.envoyproxy.envoy.config.accesslog.v3.HeaderFilter;
import io.envoyproxy.envoy.config.accesslog.v3.StatusCodeFilter;
import io.envoyproxy.envoy.config.core.v3.RuntimeUInt32;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogsTest {

    @TempDir
    Path dir;

    private static StreamInfoImpl httpInfo() {
        StreamInfoImpl info = new StreamInfoImpl(new InetSocketAddress("10.1.2.3", 51000),
                new InetSocketAddress("127.0.0.1", 10000), "HTTP/1.1");
        info.setResponseCode(200);
        info.addBytesReceived(12);
        info.addBytesSent(345);
        info.setUpstreamHost("10.0.0.7:8080");
        info.setUpstreamCluster("backend");
        info.setRouteName("r1");
        info.setResponseCodeDetails("via_upstream");
        return info;
    }

    /** The host's own header map, filled with {@code name, value, ...} in order. */
    private static HeaderMap headers(String... namesAndValues) {
        HeaderMap h = new NettyHeaderMap();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            h.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return h;
    }

    private static HeaderMap request() {
        return headers(":method", "GET", ":path", "/foo?x=1", ":authority", "example.com",
                "user-agent", "curl/8.5.0", "x-request-id", "abc-123");
    }

    private static AccessLog fileLog(String path, SubstitutionFormatString format) {
        FileAccessLog.Builder f = FileAccessLog.newBuilder().setPath(path);
        if (format != null) {
            f.setLogFormat(format);
        }
        return AccessLog.newBuilder().setName("envoy.access_loggers.file").setTypedConfig(Any.pack(f.build())).build();
    }

    private static String awaitFile(Path file, int lines) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(file)) {
                String s = Files.readString(file);
                if (s.chars().filter(c -> c == '\n').count() >= lines) {
                    return s;
                }
            }
            Thread.sleep(10);
        }
        return Files.exists(file) ? Files.readString(file) : "";
    }

    @Test
    void fileLoggerWritesEnvoyDefaultFormat() throws Exception {
        AccessLogger logger = AccessLogs.create(List.of(fileLog("access.log", null)), "access_log", dir);
        StreamInfoImpl info = httpInfo();
        logger.log(request(), headers(":status", "200", "x-envoy-upstream-service-time", "7"), null, info);

        String out = awaitFile(dir.resolve("access.log"), 1);
        assertThat(out).matches("\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] "
                + "\"GET /foo\\?x=1 HTTP/1\\.1\" 200 - 12 345 \\d+ 7 \"-\" \"curl/8\\.5\\.0\" \"abc-123\" "
                + "\"example\\.com\" \"10\\.0\\.0\\.7:8080\"\n");
    }

    @Test
    void defaultFormatMatchesEnvoysExactString() {
        assertThat(FormatString.DEFAULT_FORMAT).isEqualTo("[%START_TIME%] \"%REQ(:METHOD)% "
                + "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
                + "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
                + "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
                + "\"%UPSTREAM_HOST%\"\n");
    }

    @Test
    void operatorsAlternativesTruncationFlagsAndTime() {
        FormatString f = FormatString.parse("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH):4% %RESPONSE_FLAGS% 100%% "
                + "%START_TIME(%Y/%m/%d %H:%M:%S.%3f %s)% %DOWNSTREAM_REMOTE_ADDRESS% "
                + "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_ADDRESS% %UPSTREAM_CLUSTER% "
                + "%ROUTE_NAME% %RESPONSE_CODE_DETAILS% %REQUEST_DURATION% %TRAILER(grpc-status)% "
                + "%REQ_WITHOUT_QUERY(:PATH)% %REQUEST_HEADER(:METHOD)%", false, "f");
        StreamInfoImpl info = httpInfo();
        info.setResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
        info.setResponseFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
        String out = f.format(new LogContext(request(), null, null, info, System.nanoTime()));
        long ms = info.startTimeMillis();
        String date = new java.text.SimpleDateFormat("yyyy/MM/dd HH:mm:ss.SSS") {{
                setTimeZone(java.util.TimeZone.getTimeZone("UTC")); }}.format(new java.util.Date(ms));
        assertThat(out).isEqualTo("/foo UH,UF 100% " + date + " " + (ms / 1000) + " 10.1.2.3:51000 10.1.2.3 "
                + "127.0.0.1:10000 backend r1 via_upstream - - /foo GET");
    }

    @Test
    void l4EntryHasNoHeaders() {
        FormatString f = FormatString.parse("%REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %BYTES_SENT%", false, "f");
        StreamInfoImpl info = new StreamInfoImpl(new InetSocketAddress("10.1.2.3", 1), new InetSocketAddress(
                "127.0.0.1", 2), null);
        info.addBytesSent(9);
        assertThat(f.format(new LogContext(null, null, null, info, System.nanoTime()))).isEqualTo("- - 0 9");  // Envoy: 0 when no response was sent
        FormatString omit = FormatString.parse("[%REQ(:PATH)%]", true, "f");
        assertThat(omit.format(new LogContext(null, null, null, info, System.nanoTime()))).isEqualTo("[]");
    }

    @Test
    void jsonFormatPrintsOneObjectPerLine() throws Exception {
        Struct json = Struct.newBuilder()
                .putFields("method", Value.newBuilder().setStringValue("%REQ(:METHOD)%").build())
                .putFields("code", Value.newBuilder().setStringValue("%RESPONSE_CODE%").build())
                .putFields("path", Value.newBuilder().setStringValue("path=%REQ(:PATH)%").build())
                .putFields("xff", Value.newBuilder().setStringValue("%REQ(X-FORWARDED-FOR)%").build())
                .putFields("n", Value.newBuilder().setNumberValue(1).build())
                .build();
        JsonLogFormat f = JsonLogFormat.parse(json, false, "json_format");
        String line = f.format(new LogContext(request(), null, null, httpInfo(), System.nanoTime()));
        assertThat(line).endsWith("}\n").doesNotContain("\n{");
        JsonNode node = new ObjectMapper().readTree(line);
        assertThat(node.get("method").asText()).isEqualTo("GET");
        assertThat(node.get("code").asText()).isEqualTo("200");
        assertThat(node.get("path").asText()).isEqualTo("path=/foo?x=1");
        assertThat(node.get("xff").asText()).isEqualTo("-");
        assertThat(node.get("n").asInt()).isEqualTo(1);

        JsonNode omitted = new ObjectMapper().readTree(JsonLogFormat.parse(json, true, "json_format")
                .format(new LogContext(request(), null, null, httpInfo(), System.nanoTime())));
        assertThat(omitted.has("xff")).isFalse();
        assertThat(omitted.has("method")).isTrue();
    }

    @Test
    void stdoutLoggerWithJsonFormatAndStatusFilter() throws Exception {
        Path file = dir.resolve("filtered.log");
        AccessLogFilter onlyErrors = AccessLogFilter.newBuilder().setStatusCodeFilter(StatusCodeFilter.newBuilder()
                .setComparison(ComparisonFilter.newBuilder().setOp(ComparisonFilter.Op.GE)
                        .setValue(RuntimeUInt32.newBuilder().setDefaultValue(500).setRuntimeKey("k")))).build();
        AccessLog log = fileLog(file.toString(), SubstitutionFormatString.newBuilder()
                .setJsonFormat(Struct.newBuilder().putFields("code",
                        Value.newBuilder().setStringValue("%RESPONSE_CODE%").build())).build())
                .toBuilder().setFilter(onlyErrors).build();
        AccessLogger logger = AccessLogs.create(List.of(log), "access_log", dir);
        StreamInfoImpl ok = httpInfo();
        StreamInfoImpl failed = httpInfo();
        failed.setResponseCode(503);
        logger.log(request(), null, null, ok);
        logger.log(request(), null, null, failed);
        assertThat(awaitFile(file, 1)).isEqualTo("{\"code\":\"503\"}\n");
    }

    @Test
    void stdoutLoggerIsAccepted() {
        AccessLog log = AccessLog.newBuilder().setName("envoy.access_loggers.stdout")
                .setTypedConfig(Any.pack(StdoutAccessLog.getDefaultInstance())).build();
        assertThat(AccessLogs.create(List.of(log), "access_log", dir)).isNotSameAs(AccessLogger.NONE);
        assertThat(AccessLogs.create(List.of(), "access_log", dir)).isSameAs(AccessLogger.NONE);
    }

    @Test
    void unknownOperatorIsAConfigErrorNamingPathAndOperator() {
        AccessLog log = fileLog("x.log", SubstitutionFormatString.newBuilder()
                .setTextFormatSource(io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder()
                        .setInlineString("%REQ(:PATH)% %NO_SUCH_THING%\n")).build());
        assertThatThrownBy(() -> AccessLogs.create(List.of(log), "filters[0].typed_config.access_log", dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("filters[0].typed_config.access_log[0].typed_config.log_format.text_format_source")
                .hasMessageContaining("%NO_SUCH_THING%");
        assertThatThrownBy(() -> FormatString.parse("100% done", false, "p"))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("p: invalid command operator");
        assertThatThrownBy(() -> FormatString.parse("%START_TIME(%Q)%", false, "p"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("%Q");
    }

    @Test
    void unsupportedFilterAndMissingPathAreConfigErrors() {
        AccessLog headerFiltered = fileLog("x.log", null).toBuilder().setFilter(AccessLogFilter.newBuilder()
                .setHeaderFilter(HeaderFilter.getDefaultInstance())).build();
        assertThatThrownBy(() -> AccessLogs.create(List.of(headerFiltered), "access_log", dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("access_log[0].filter.header_filter: not supported yet");
        assertThatThrownBy(() -> AccessLogs.create(List.of(fileLog("", null)), "access_log", dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("access_log[0].typed_config.path");
    }

    @Test
    void fileInMissingDirectoryIsAConfigError() throws IOException {
        assertThatThrownBy(() -> AccessLogs.create(List.of(fileLog("no/such/dir/a.log", null)), "access_log", dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("access_log[0].typed_config.path");
    }
}
