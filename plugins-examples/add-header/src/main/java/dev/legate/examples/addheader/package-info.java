/**
 * An example plugin built only against {@code plugin-api}: the HTTP filter {@code legate.examples.add_header}
 * adds one configured header to every response, local replies included.
 *
 * <p>Its config is a Java record ({@link dev.legate.examples.addheader.AddHeaderConfig}) that the host binds
 * from Envoy's untyped wrapper {@code xds.type.v3.TypedStruct} with
 * {@code type_url: type.googleapis.com/legate.examples.AddHeader}. See the module's README for how to build
 * it and drop it into {@code --plugins-dir}.
 */
package dev.legate.examples.addheader;
