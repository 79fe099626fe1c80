# checksum.s: the 16-bit ones' complement Internet checksum (RFC 1071) of the input memory,
# in the uBPF / conformance syntax. r1 = memory, r2 = its length.
# bpfkit run examples/checksum.s --mem "45 00 00 1c 00 00 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02"
        mov %r0, 0              # running sum
        mov %r3, 0              # byte offset
words:
        mov %r4, %r3
        add %r4, 1
        jge %r4, %r2, tail      # fewer than 2 bytes left
        mov %r5, %r1
        add %r5, %r3
        ldxh %r6, [%r5+0]
        be16 %r6                # network byte order
        add %r0, %r6
        add %r3, 2
        ja words
tail:
        jge %r3, %r2, fold
        mov %r5, %r1
        add %r5, %r3
        ldxb %r6, [%r5+0]
        lsh %r6, 8
        add %r0, %r6
fold:
        mov %r4, %r0            # fold the carries into 16 bits
        rsh %r4, 16
        jeq %r4, 0, done
        and %r0, 0xffff
        add %r0, %r4
        ja fold
done:
        xor %r0, 0xffff
        exit
