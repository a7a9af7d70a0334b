/**
 * The engine-neutral core of Legate's script filters ({@code envoy.filters.http.lua},
 * {@code legate.filters.http.javascript}): what a script filter does to a stream, independent of the language.
 *
 * <h2>How an engine binds to it</h2>
 * <ol>
 *   <li><b>Sources.</b> The factory turns each Envoy {@code DataSource} into a {@link ScriptSource}
 *       ({@link ScriptSource#load}), and each source into a {@link ReloadableScript} with the engine's
 *       {@link ScriptCompiler} (compile = syntax check + an immutable program shared across event loops). A
 *       compile error at start-up is a {@link dev.legate.api.ConfigException} naming file and line; a file
 *       source is watched by a {@link ScriptWatcher}, and a changed file serves new streams, while a compile
 *       error keeps the old program (logged with file and line, counted in {@link ScriptStats}).</li>
 *   <li><b>Per worker.</b> The engine keeps its interpreter state (LuaJ {@code Globals}, a GraalVM
 *       {@code Context}) per event loop in a {@link WorkerStates}, keyed by the stream's
 *       {@link dev.legate.api.Dispatcher}, one per program version: a stream keeps the state it started on.</li>
 *   <li><b>Per stream.</b> The installer makes a {@link ScriptHttpFilter} with a {@link ScriptInvocation.Factory}.
 *       The filter owns the stream protocol (statuses, buffering, continue, fail-open); for each direction it
 *       asks the engine for a {@link ScriptInvocation} and calls {@link ScriptInvocation#run()} to start and to
 *       resume it. The engine's handle objects call the operations of {@link ScriptStream}; an operation that
 *       waits ({@link ScriptStream#awaitBody}, {@link ScriptStream#awaitChunk}, {@link ScriptStream#awaitTrailers},
 *       {@link ScriptStream#awaitHttpCall}) registers the wait, the engine suspends the script and returns
 *       {@link ScriptInvocation.Outcome#WAITING}; the filter calls {@code run()} again when the data is there.</li>
 *   <li><b>Suspending.</b> How a script suspends is the engine's choice: {@link ScriptCarrier} runs a script on
 *       a virtual thread with a strict hand-off (exactly one of event loop and script runs at a time); an engine
 *       with native async (JavaScript promises) can resolve instead. Scripts that never wait run directly on the
 *       event loop.</li>
 *   <li><b>Limits.</b> {@link CallBudget} does the per-call bookkeeping of {@link ScriptLimits} (time,
 *       instructions, bytes allocated); the engine calls {@link CallBudget#check} from its instruction hook and
 *       the budget throws {@link ScriptLimitExceeded}.</li>
 * </ol>
 *
 * <p>Threads: everything here is confined to the stream's event loop, except what a {@link ScriptCarrier}'s
 * script thread does while the event loop is parked in {@link ScriptCarrier#resume()}; calls that reach the host
 * (respond, httpCall, continue) are run back on the event loop by {@link ScriptStream}.
 */
package dev.legate.filters.http.scripting;
