#!/bin/sh
# The thinfs command, installed by 'thinfs install --prefix @PREFIX@' (undo with 'thinfs uninstall --prefix @PREFIX@').
# THINFS_JAVA picks another Java 17+; THINFS_LOG_LEVEL the log level of commands (the daemon logs at info).
THINFS_LAUNCHER="@PREFIX@/bin/thinfs" exec "${THINFS_JAVA:-@JAVA@}" -Dorg.slf4j.simpleLogger.defaultLogLevel="${THINFS_LOG_LEVEL:-warn}" \
    -jar "@PREFIX@/lib/thinfs/thinfs.jar" "$@"
