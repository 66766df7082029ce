# Sourced by the build scripts (REPO_ROOT set): every clone and build
# directory shares ccache's objects. Paths under the repository are hashed
# relative to it. The build directory is left out of the hash: otherwise
# every -g compile in a fresh clone misses. The cost is that the debug info
# of an object built in another clone names that clone's directory.
export CCACHE_BASEDIR="$REPO_ROOT"
export CCACHE_NOHASHDIR=true
