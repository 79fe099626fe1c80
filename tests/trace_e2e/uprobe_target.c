// The program that uprobe cases of tests/trace/*.test attach to: small functions with
// known arguments and return values, called a known number of times.
//   uprobe_target [N [A B [MS]]]  calls bpfkit_e2e_add(A + i, B) N times (default 3, 1, 2),
//                                 then bpfkit_e2e_greet("bpfkit") once, then sleeps MS
//                                 milliseconds (so that user stacks can be symbolized
//                                 while the process still exists).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

// noinline and used: the symbol and a real call survive optimization.
__attribute__((noinline, used)) int bpfkit_e2e_add(int a, int b) {
  __asm__ volatile("" ::: "memory");  // keeps the call from being folded away
  return a + b;
}

__attribute__((noinline, used)) size_t bpfkit_e2e_greet(const char* name) {
  __asm__ volatile("" ::: "memory");
  size_t n = 0;
  while (name[n]) ++n;
  return n;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 3;
  int a = argc > 2 ? atoi(argv[2]) : 1;
  int b = argc > 3 ? atoi(argv[3]) : 2;
  long total = 0;
  for (int i = 0; i < n; ++i) total += bpfkit_e2e_add(a + i, b);
  // On the stack, so the page is present when a uprobe reads it (a literal's .rodata
  // page may not be faulted in yet, and BPF reads of user memory do not fault).
  char name[] = "bpfkit";
  total += (long)bpfkit_e2e_greet(name);
  printf("total %ld\n", total);
  fflush(stdout);
  if (argc > 4) {
    long ms = atol(argv[4]);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}
