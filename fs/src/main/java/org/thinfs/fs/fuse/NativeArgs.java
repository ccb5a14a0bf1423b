package org.thinfs.fs.fuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A {@code struct fuse_args} over copies of {@code argv}; the memory lives as long as this object. */
final class NativeArgs {
    final Pointer struct;
    @SuppressWarnings({"unused", "FieldCanBeLocal"}) // keeps the strings' native memory alive
    private final List<Pointer> strings = new ArrayList<>();
    @SuppressWarnings({"unused", "FieldCanBeLocal"})
    private final Pointer vector;

    NativeArgs(Runtime rt, List<String> argv) {
        int ptr = rt.addressSize();
        vector = Memory.allocateDirect(rt, (argv.size() + 1) * ptr, true);
        for (int i = 0; i < argv.size(); i++) {
            byte[] b = argv.get(i).getBytes(StandardCharsets.UTF_8);
            Pointer s = Memory.allocateDirect(rt, b.length + 1, true);
            s.put(0, b, 0, b.length);
            strings.add(s);
            vector.putPointer((long) i * ptr, s);
        }
        // struct fuse_args { int argc; char **argv; int allocated; }
        struct = Memory.allocateDirect(rt, 3 * ptr, true);
        struct.putInt(0, argv.size());
        struct.putPointer(ptr, vector);
        struct.putInt(2L * ptr, 0);
    }
}
