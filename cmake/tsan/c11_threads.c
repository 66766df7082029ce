// C11 threads (<threads.h>) on top of pthreads, linked into every executable
// of a TSan build (cmake/Sanitizers.cmake).
//
// Debian's librdkafka creates its threads and takes its locks with glibc's C11
// threads (thrd_create, mtx_lock, cnd_wait, call_once). glibc implements those
// by calling its pthread internals directly, past the pthread interceptors of
// ThreadSanitizer, and neither gcc 12's nor clang 14's TSan runtime intercepts
// the C11 names. TSan then never learns of librdkafka's threads and crashes
// in its allocator on their first malloc (any process that creates an
// rd_kafka_t, SIGSEGV in SizeClassAllocator64LocalCache::Allocate), and could
// not see their locking if it did not. Definitions in the executable come
// first in symbol lookup, so librdkafka calls these, and these call the
// intercepted pthread functions. glibc lays out mtx_t, cnd_t, thrd_t and
// once_flag as pthread_mutex_t, pthread_cond_t, pthread_t and pthread_once_t,
// and casts between them the same way.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int to_thrd(int err) {
  switch (err) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
  }
}

struct start {
  thrd_start_t func;
  void* arg;
};

static void* run(void* p) {
  struct start s = *(struct start*)p;
  free(p);
  return (void*)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  struct start* s = malloc(sizeof *s);
  if (s == NULL) return thrd_nomem;
  s->func = func;
  s->arg = arg;
  int err = pthread_create((pthread_t*)thr, NULL, run, s);
  if (err != 0) free(s);
  return to_thrd(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* ret;
  int err = pthread_join((pthread_t)thr, &ret);
  if (err == 0 && res != NULL) *res = (int)(intptr_t)ret;
  return to_thrd(err);
}

int thrd_detach(thrd_t thr) { return to_thrd(pthread_detach((pthread_t)thr)); }

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int err = pthread_mutex_init((pthread_mutex_t*)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return to_thrd(err);
}

int mtx_lock(mtx_t* m) { return to_thrd(pthread_mutex_lock((pthread_mutex_t*)m)); }
int mtx_trylock(mtx_t* m) { return to_thrd(pthread_mutex_trylock((pthread_mutex_t*)m)); }
int mtx_timedlock(mtx_t* restrict m, const struct timespec* restrict ts) {
  return to_thrd(pthread_mutex_timedlock((pthread_mutex_t*)m, ts));
}
int mtx_unlock(mtx_t* m) { return to_thrd(pthread_mutex_unlock((pthread_mutex_t*)m)); }
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy((pthread_mutex_t*)m); }

int cnd_init(cnd_t* c) { return to_thrd(pthread_cond_init((pthread_cond_t*)c, NULL)); }
int cnd_signal(cnd_t* c) { return to_thrd(pthread_cond_signal((pthread_cond_t*)c)); }
int cnd_broadcast(cnd_t* c) { return to_thrd(pthread_cond_broadcast((pthread_cond_t*)c)); }
int cnd_wait(cnd_t* c, mtx_t* m) {
  return to_thrd(pthread_cond_wait((pthread_cond_t*)c, (pthread_mutex_t*)m));
}
int cnd_timedwait(cnd_t* restrict c, mtx_t* restrict m, const struct timespec* restrict ts) {
  return to_thrd(pthread_cond_timedwait((pthread_cond_t*)c, (pthread_mutex_t*)m, ts));
}
void cnd_destroy(cnd_t* c) { pthread_cond_destroy((pthread_cond_t*)c); }

void call_once(once_flag* flag, void (*func)(void)) { pthread_once((pthread_once_t*)flag, func); }
