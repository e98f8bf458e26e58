/*
 * The few Linux system calls the run engine makes on the host, as a Node-API
 * addon: mount(2), umount2(2) and utimensat(2). mount(8)/umount(8) cost a
 * fork and exec of the whole Node process each (~4 ms); a build step mounts
 * and unmounts two or three times. Each function is synchronous and short
 * (the kernel's work only) and throws an Error whose `code` is the errno name
 * (`EBUSY`), like Node's own fs errors. The exception is umount2Async: the
 * last unmount of a written overlay syncs the upper filesystem (milliseconds),
 * so it runs on libuv's thread pool and returns a promise, which rejects
 * with the same kind of Error. memfdSecret makes the anonymous, sealed
 * in-memory file a secret mount is bound from (no path on any filesystem).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>
#include <sys/stat.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, "ERR_TSBUILD_SYS", "tsbuild-sys: Node-API call failed"); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

/* A string argument (NULL for JS null/undefined), malloc'd; *ok is 0 after a thrown TypeError. */
static char *string_arg(napi_env env, napi_value v, int *ok) {
  napi_valuetype t;
  *ok = 1;
  if (napi_typeof(env, v, &t) != napi_ok) { *ok = 0; return NULL; }
  if (t == napi_null || t == napi_undefined) return NULL;
  if (t != napi_string) { napi_throw_type_error(env, NULL, "expected a string or null"); *ok = 0; return NULL; }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) { napi_throw_error(env, "ENOMEM", "out of memory"); *ok = 0; return NULL; }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/*
 * The call's arguments, at most `max`, into argv (*argc their count), the first
 * a string: returned malloc'd. NULL after a thrown error: fewer than `need`
 * arguments or a null first one throw `usage` as a TypeError.
 */
static char *string_first(napi_env env, napi_callback_info info, napi_value *argv, size_t max, size_t need, size_t *argc, const char *usage) {
  *argc = max;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ERR_TSBUILD_SYS", "tsbuild-sys: Node-API call failed");
    return NULL;
  }
  int ok = 1;
  char *s = *argc >= need ? string_arg(env, argv[0], &ok) : NULL;
  if (!s && (*argc < need || ok)) napi_throw_type_error(env, NULL, usage);
  return s;
}

static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char code[32];
  if (!name) { snprintf(code, sizeof code, "E%d", err); name = code; }
  char message[4400];
  snprintf(message, sizeof message, "%s: %s, %s '%s'", name, strerror(err), syscall, path ? path : "");
  napi_value msg, codev, error, errnov, sysv, pathv;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &codev);
  napi_create_error(env, codev, msg, &error);
  napi_create_int32(env, -err, &errnov);
  napi_set_named_property(env, error, "errno", errnov);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sysv);
  napi_set_named_property(env, error, "syscall", sysv);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &pathv);
    napi_set_named_property(env, error, "path", pathv);
  }
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
  return NULL;
}

/* mount(source, target, fstype, flags, data) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) { napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)"); return NULL; }
  int ok;
  char *source = string_arg(env, argv[0], &ok);
  if (!ok) return NULL;
  char *target = string_arg(env, argv[1], &ok);
  char *fstype = ok ? string_arg(env, argv[2], &ok) : NULL;
  char *data = ok ? string_arg(env, argv[4], &ok) : NULL;
  int64_t flags = 0;
  if (ok && napi_get_value_int64(env, argv[3], &flags) != napi_ok) { napi_throw_type_error(env, NULL, "flags must be a number"); ok = 0; }
  if (ok && !target) { napi_throw_type_error(env, NULL, "target is required"); ok = 0; }
  if (ok && mount(source, target, fstype, (unsigned long)flags, data) != 0) throw_errno(env, errno, "mount", target);
  free(source); free(target); free(fstype); free(data);
  return NULL;
}

/* The (target, flags) arguments of umount2 and umount2Async; target is malloc'd, NULL after a thrown TypeError. */
static char *umount_args(napi_env env, napi_callback_info info, const char *usage, int32_t *flags) {
  size_t argc;
  napi_value argv[2];
  *flags = 0;
  char *target = string_first(env, info, argv, 2, 1, &argc, usage);
  if (!target) return NULL;
  if (argc >= 2 && napi_get_value_int32(env, argv[1], flags) != napi_ok) { free(target); napi_throw_type_error(env, NULL, "flags must be a number"); return NULL; }
  return target;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  int32_t flags;
  char *target = umount_args(env, info, "umount2(target, flags)", &flags);
  if (!target) return NULL;
  if (umount2(target, flags) != 0) throw_errno(env, errno, "umount2", target);
  free(target);
  return NULL;
}

/* umount2Async(target, flags) → Promise<void>: umount2 on a thread-pool thread. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *target;
  int flags;
  int err;
} umount_job;

static void umount_execute(napi_env env, void *data) {
  umount_job *job = data;
  job->err = umount2(job->target, job->flags) == 0 ? 0 : errno;
}

static void umount_complete(napi_env env, napi_status status, void *data) {
  umount_job *job = data;
  if (status == napi_ok && job->err == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, status == napi_ok ? job->err : ECANCELED, "umount2", job->target));
  }
  napi_delete_async_work(env, job->work);
  free(job->target);
  free(job);
}

static napi_value js_umount2_async(napi_env env, napi_callback_info info) {
  int32_t flags;
  char *target = umount_args(env, info, "umount2Async(target, flags)", &flags);
  if (!target) return NULL;
  umount_job *job = calloc(1, sizeof *job);
  if (!job) { free(target); napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  job->target = target;
  job->flags = flags;
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "tsbuild:umount2", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, umount_execute, umount_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(target); free(job);
    napi_throw_error(env, "ERR_TSBUILD_SYS", "tsbuild-sys: Node-API call failed");
    return NULL;
  }
  return promise;
}

/* setMtime(path, seconds, nanoseconds): the mtime of `path` itself (a symlink is not followed), atime left alone. */
static napi_value js_set_mtime(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[3];
  char *path = string_first(env, info, argv, 3, 3, &argc, "setMtime(path, seconds, nanoseconds)");
  if (!path) return NULL;
  int64_t sec, nsec;
  if (napi_get_value_int64(env, argv[1], &sec) != napi_ok || napi_get_value_int64(env, argv[2], &nsec) != napi_ok || nsec < 0 || nsec > 999999999) {
    free(path);
    napi_throw_type_error(env, NULL, "seconds and nanoseconds must be numbers (0 <= nanoseconds < 1e9)");
    return NULL;
  }
  struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec}};
  if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(env, errno, "utimensat", path);
  free(path);
  return NULL;
}

/*
 * memfdSecret(name, bytes) → fd: memfd_create(2) (close-on-exec), the bytes
 * written, then sealed against any write, growth or shrink. The file has no
 * name in any filesystem: it lives while the fd or a bind mount of it does,
 * so a process's death (the fd closes) leaves it only inside the mount
 * namespaces of containers still running.
 */
static napi_value js_memfd_secret(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  char *name = string_first(env, info, argv, 2, 2, &argc, "memfdSecret(name, bytes)");
  if (!name) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_typed;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed) { free(name); napi_throw_type_error(env, NULL, "bytes must be a Uint8Array"); return NULL; }
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    free(name); napi_throw_type_error(env, NULL, "bytes must be a Uint8Array"); return NULL;
  }
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) { throw_errno(env, errno, "memfd_create", name); free(name); return NULL; }
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, (const char *)data + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { int e = errno; close(fd); throw_errno(env, e, "write", name); free(name); return NULL; }
    done += (size_t)n;
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    int e = errno; close(fd); throw_errno(env, e, "fcntl(F_ADD_SEALS)", name); free(name); return NULL;
  }
  free(name);
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
    {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
    {"umount2Async", NULL, js_umount2_async, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setMtime", NULL, js_set_mtime, NULL, NULL, NULL, napi_enumerable, NULL},
    {"memfdSecret", NULL, js_memfd_secret, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
