#include <sys/prctl.h>
#include <unistd.h>

#include "core/exec_env.h"

namespace bpfkit::core {

TaskIdentity TaskIdentity::current() {
  TaskIdentity t;
  t.pid = uint32_t(gettid());
  t.tgid = uint32_t(getpid());
  t.uid = getuid();
  t.gid = getgid();
  prctl(PR_GET_NAME, t.comm, 0, 0, 0);  // the thread's comm, as the kernel reports it
  return t;
}

}  // namespace bpfkit::core
