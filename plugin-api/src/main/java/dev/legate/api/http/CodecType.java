package dev.legate.api.http;

/** The HCM's {@code codec_type}. {@code AUTO} sniffs the HTTP/2 preface on cleartext. */
public enum CodecType {
    AUTO, HTTP1, HTTP2
}
