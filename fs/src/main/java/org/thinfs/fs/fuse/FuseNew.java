package org.thinfs.fs.fuse;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Type;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Calls libfuse2's current {@code fuse_new} (symbol version FUSE_2.6).
 *
 * <p>libfuse.so.2 also exports an unversioned {@code fuse_new} that is the old 2.2 compatibility entry point
 * ({@code fuse_new(int fd, const char *opts, ...)}), and a plain {@code dlsym}, which is what jnr-ffi does, returns
 * that one: it reads the {@code fuse_args} pointer as an option string and fails with "unknown option". So the
 * address comes from {@code dlvsym} and the call goes through jffi, the layer under jnr-ffi.
 */
final class FuseNew {
    private static final int RTLD_NOW = 2;

    /** glibc's dynamic linker calls (in libc since glibc 2.34, and in libdl before it). */
    public interface Dl {
        Pointer dlopen(String file, int mode);

        Pointer dlvsym(Pointer handle, String symbol, String version);

        String dlerror();
    }

    private FuseNew() {
    }

    static Pointer call(Runtime rt, Pointer ch, Pointer args, Pointer operations, int operationsSize) {
        Dl dl = LibraryLoader.create(Dl.class).failImmediately().load("c");
        Pointer lib = dl.dlopen("libfuse.so.2", RTLD_NOW);
        if (lib == null) {
            throw new IllegalStateException("cannot open libfuse.so.2: " + dl.dlerror());
        }
        Pointer fn = dl.dlvsym(lib, "fuse_new", "FUSE_2.6");
        if (fn == null) {
            throw new IllegalStateException("libfuse.so.2 has no fuse_new@FUSE_2.6: " + dl.dlerror());
        }
        CallContext ctx = new Function(fn.address(), Type.POINTER, Type.POINTER, Type.POINTER, Type.POINTER,
                Type.UINT64, Type.POINTER).getCallContext();
        long f = Invoker.getInstance().invokeN5(ctx, fn.address(), ch.address(), args.address(),
                operations.address(), operationsSize, 0L);
        return f == 0 ? null : Pointer.wrap(rt, f);
    }
}
