package org.thinfs.core.btree;

import org.thinfs.core.io.BlockValidator;
import org.thinfs.core.io.Validators;

import java.nio.ByteBuffer;

/** Checksum and location (as every node) plus the node-local structural rules, checked once per read from disk. */
public final class NodeValidator implements BlockValidator {
    public static final NodeValidator INSTANCE = new NodeValidator();

    private NodeValidator() {
    }

    @Override
    public String name() {
        return Validators.NODE.name();
    }

    @Override
    public void prepareForWrite(ByteBuffer block, long nr) {
        Validators.NODE.prepareForWrite(block, nr);
    }

    @Override
    public void check(ByteBuffer block, long nr) {
        Validators.NODE.check(block, nr);
        new Node(block, nr).validate(-1);
    }
}
