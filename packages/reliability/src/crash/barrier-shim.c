/*
 * Persist-barrier counter, preloaded (LD_PRELOAD) into a crash child: it interposes libpmem's
 * pmem_drain, pmem_persist and pmem_msync, which libpmemobj calls (through the dynamic linker)
 * at every ordering point: the fence after flushes on pmem, or the msync that replaces
 * flush + fence elsewhere. Each call is one barrier.
 *
 * Barriers are counted only while the environment variable PMEMKV_BARRIER_ARMED is "1" (the
 * child sets it once its pool is open, so the count covers its operations, not the open).
 * When the count reaches PMEMKV_BARRIER_KILL_AT (> 0), the process SIGKILLs itself *before*
 * the barrier: stores issued since the previous barrier may or may not have reached the
 * media, which is what a crash at that instant allows. At exit the count is written to the
 * file named by PMEMKV_BARRIER_COUNT_FILE, if set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long barrier_count;
static unsigned long kill_at;

__attribute__((constructor)) static void shim_init(void) {
  const char *at = getenv("PMEMKV_BARRIER_KILL_AT");
  kill_at = at != NULL ? strtoul(at, NULL, 10) : 0;
}

__attribute__((destructor)) static void shim_fini(void) {
  const char *path = getenv("PMEMKV_BARRIER_COUNT_FILE");
  if (path == NULL || path[0] == '\0') return;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return;
  char text[32];
  int n = snprintf(text, sizeof text, "%lu\n", barrier_count);
  if (n > 0) (void)!write(fd, text, (size_t)n);
  close(fd);
}

/* libpmem's own definition of `name`. libpmem is loaded by the addon with local scope, after this
 * shim, so RTLD_NEXT cannot see it: ask the loaded libpmem itself. Dies rather than returning
 * NULL, so that a missing symbol is a clear failure instead of a jump to address 0. */
static void *real_symbol(const char *name) {
  void *lib = dlopen("libpmem.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (lib == NULL) lib = dlopen("libpmem.so.1", RTLD_NOW);
  void *sym = lib != NULL ? dlsym(lib, name) : NULL;
  if (sym == NULL) {
    static const char msg[] = "barrier-shim: libpmem symbol not found\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
  }
  return sym;
}

static void barrier(void) {
  const char *armed = getenv("PMEMKV_BARRIER_ARMED");
  if (armed == NULL || armed[0] != '1') return;
  barrier_count++;
  if (kill_at != 0 && barrier_count == kill_at) raise(SIGKILL);
}

void pmem_drain(void) {
  static void (*real)(void);
  if (real == NULL) real = (void (*)(void))real_symbol("pmem_drain");
  barrier();
  real();
}

void pmem_persist(const void *addr, size_t len) {
  static void (*real)(const void *, size_t);
  if (real == NULL) real = (void (*)(const void *, size_t))real_symbol("pmem_persist");
  barrier();
  real(addr, len);
}

int pmem_msync(const void *addr, size_t len) {
  static int (*real)(const void *, size_t);
  if (real == NULL) real = (int (*)(const void *, size_t))real_symbol("pmem_msync");
  barrier();
  return real(addr, len);
}
