// Installs an engine's ExecEnv::call_subprogram for the length of one run and puts
// back what was there before, so that runs nested inside helpers keep their own.
#pragma once

#include "core/exec_env.h"

namespace bpfkit::vm {

class CallbackScope {
 public:
  using Fn = decltype(core::ExecEnv::call_subprogram);
  CallbackScope(core::ExecEnv& env, Fn fn, void* engine)
      : env_(env), fn_(env.call_subprogram), engine_(env.engine) {
    env.call_subprogram = fn;
    env.engine = engine;
  }
  ~CallbackScope() {
    env_.call_subprogram = fn_;
    env_.engine = engine_;
  }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  core::ExecEnv& env_;
  Fn fn_;
  void* engine_;
};

}  // namespace bpfkit::vm
