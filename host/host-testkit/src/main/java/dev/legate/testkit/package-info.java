/**
 * Test harnesses for plugin authors: drive one filter without sockets and check for buffer leaks.
 *
 * <ul>
 *   <li>{@link dev.legate.testkit.HttpFilterHarness}: plays the host's stream state machine for one
 *       {@link dev.legate.api.http.HttpFilter} and records what passes, local replies and continue calls.</li>
 *   <li>{@link dev.legate.testkit.NetworkFilterFakes}: fakes of the host side of a
 *       {@link dev.legate.api.network.NetworkFilter} (connection, callbacks, clusters, TCP pools completed by the
 *       test, upstream connections) that record what the filter writes and closes.</li>
 *   <li>{@link dev.legate.testkit.TestHeaderMap}, {@link dev.legate.testkit.TestStreamInfo}: plain SPI
 *       implementations for tests.</li>
 *   <li>{@link dev.legate.testkit.ManualDispatcher}: a {@link dev.legate.api.Dispatcher} whose clock the test
 *       moves, for timers.</li>
 *   <li>{@link dev.legate.testkit.TestFactoryContext}: a {@link dev.legate.api.FactoryContext} with real stats,
 *       for calling a factory's {@code create} in a test.</li>
 *   <li>{@link dev.legate.testkit.LeakCheck}: a JUnit 5 extension that fails a class on a Netty buffer leak.</li>
 * </ul>
 */
package dev.legate.testkit;
