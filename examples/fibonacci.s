# fibonacci.s: r0 = fib(90) computed with a bounded loop (kernel / llvm-objdump syntax).
# bpfkit asm examples/fibonacci.s -o fib.o && bpfkit run fib.o
        r1 = 0                  # fib(i)
        r2 = 1                  # fib(i + 1)
        r3 = 90                 # iterations left
loop:
        r4 = r1
        r4 += r2
        r1 = r2
        r2 = r4
        r3 += -1
        if r3 != 0 goto loop
        r0 = r1                 # 2880067194370816120
        exit
