# Sourced by ./mvnw and ./legate (POSIX sh): makes JAVA_HOME a JDK 21 or newer.
# Order: $JAVA_HOME if it is 21+, then the newest JDK under /usr/lib/jvm, then `java` on PATH.
# Fails with a message naming what it found when none qualifies.

legate_jdk_major() {
  # $1: a JDK home. Prints its feature version (e.g. 25), or nothing.
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" | head -n 1
  elif [ -x "$1/bin/java" ]; then
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
  fi
}

legate_pick_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    v=$(legate_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then
      return 0
    fi
  fi
  best=""; bestv=0
  case $- in *f*) set +f; legate_restore_f=1 ;; *) legate_restore_f=0 ;; esac  # mvnw runs with set -f
  for d in /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    v=$(legate_jdk_major "$d")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
  done
  [ "$legate_restore_f" = 0 ] || set -f
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(legate_jdk_major "$d")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then best=$d; fi
  fi
  if [ -z "$best" ]; then
    echo "legate: no JDK 21 or newer found (looked at JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm/*, javac on PATH)." >&2
    echo "legate: install one (e.g. apt-get install openjdk-21-jdk-headless) or point JAVA_HOME at it." >&2
    return 1
  fi
  JAVA_HOME=$best
  export JAVA_HOME
}

legate_pick_jdk
