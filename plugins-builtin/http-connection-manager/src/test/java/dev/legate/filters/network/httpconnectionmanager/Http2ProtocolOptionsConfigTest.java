package dev.legate.filters.network.httpconnectionmanager;

import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.ROUTER;
import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.ROUTES;
import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.error;
import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.settings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.CodecType;
import dev.legate.api.http.Http2Options;
import org.junit.jupiter.api.Test;

/** Config tier: {@code codec_type}, {@code http2_protocol_options} and {@code drain_timeout} of the HCM. */
class Http2ProtocolOptionsConfigTest {

    private static String hcm(String extra) {
        return "stat_prefix: 'x' " + extra + " " + ROUTES + ROUTER;
    }

    @Test
    void defaultsAreEnvoysWithMaxConcurrentStreams1024() {
        HttpConnectionManagerSettings s = settings(hcm(""));
        assertThat(s.codecType()).isEqualTo(CodecType.AUTO);
        assertThat(s.http2Options()).isEqualTo(Http2Options.DEFAULTS);
        assertThat(s.http2Options().maxConcurrentStreams()).isEqualTo(1024);
        assertThat(s.drainTimeoutMillis()).isEqualTo(5000);
    }

    @Test
    void fieldsAreBound() {
        HttpConnectionManagerSettings s = settings(hcm("codec_type: HTTP2 drain_timeout { seconds: 2 } "
                + "http2_protocol_options { max_concurrent_streams { value: 7 } "
                + "initial_stream_window_size { value: 65535 } initial_connection_window_size { value: 1048576 } "
                + "hpack_table_size { value: 0 } allow_connect: true max_outbound_frames { value: 5000 } "
                + "override_stream_error_on_invalid_http_message { value: true } }"));
        assertThat(s.codecType()).isEqualTo(CodecType.HTTP2);
        assertThat(s.http2Options()).isEqualTo(new Http2Options(7, 65_535, 1_048_576, true, 0));
        assertThat(s.drainTimeoutMillis()).isEqualTo(2000);
    }

    @Test
    void rangesAndUnsupportedFieldsAreErrors() {
        assertThat(error(hcm("http2_protocol_options { max_concurrent_streams { value: 0 } }")))
                .isEqualTo("http2_protocol_options.max_concurrent_streams: 0 (expected: >= 1 and <= 2147483647)");
        assertThat(error(hcm("http2_protocol_options { initial_stream_window_size { value: 100 } }")))
                .isEqualTo("http2_protocol_options.initial_stream_window_size: 100 "
                        + "(expected: >= 65535 and <= 2147483647)");
        assertThat(error(hcm("http2_protocol_options { initial_connection_window_size { value: 4294967295 } }")))
                .isEqualTo("http2_protocol_options.initial_connection_window_size: 4294967295 "
                        + "(expected: >= 65535 and <= 2147483647)");
        assertThat(error(hcm("http2_protocol_options { allow_metadata: true }")))
                .isEqualTo("http2_protocol_options.allow_metadata: not supported yet");
        assertThat(error(hcm("http2_protocol_options { custom_settings_parameters { identifier { value: 9 } "
                + "value { value: 1 } } }")))
                .isEqualTo("http2_protocol_options.custom_settings_parameters: not supported yet");
        assertThat(error(hcm("drain_timeout { seconds: -1 }"))).isEqualTo("drain_timeout: -1s (expected: >= 0)");
    }
}
