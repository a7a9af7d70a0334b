/**
 * {@code envoy.filters.http.grpc_web}: serves gRPC-Web clients (browsers) from a native gRPC upstream (Envoy's
 * source/extensions/filters/http/grpc_web/grpc_web_filter.cc; the protocol is grpc/grpc's doc/PROTOCOL-WEB.md).
 *
 * <p>Files: {@link dev.legate.filters.http.grpc.web.GrpcWebFilterFactory} (registration, binds the field-less
 * {@code envoy.extensions.filters.http.grpc_web.v3.GrpcWeb}) and
 * {@link dev.legate.filters.http.grpc.web.GrpcWebFilter} (per stream), with
 * {@link dev.legate.filters.http.grpc.web.GrpcWebTextEncoder} (text mode's base64, frame by frame as the bytes
 * arrive; ours because Envoy's per-frame padding needs the frame boundaries, which no base64 library streams). The
 * framing is the shared {@link dev.legate.filters.http.grpc.GrpcFrameDecoder}; the {@code cluster.<name>.grpc-web.*} counters are the
 * shared {@link dev.legate.filters.http.grpc.GrpcClusterStats}. The config has no fields, so there is no settings
 * class.
 */
package dev.legate.filters.http.grpc.web;
