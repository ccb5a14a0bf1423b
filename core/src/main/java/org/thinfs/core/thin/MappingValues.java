package org.thinfs.core.thin;

import org.thinfs.core.btree.ValueType;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.sm.SpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;

/** The value types of the two mapping levels (FORMAT.md 8.1, 9.2, 9.3). */
final class MappingValues {
    private MappingValues() {
    }

    /**
     * Bottom level: block_time. A data block's count is the number of distinct leaves mapping it, so copying a
     * shared leaf increments every data block it maps and dropping a value decrements its block.
     */
    static ValueType blockTime(SpaceMap data) {
        return new ValueType() {
            @Override
            public int size() {
                return 8;
            }

            @Override
            public void inc(ByteBuffer leaf, int offset) {
                data.inc(BlockTime.dataBlock(leaf.getLong(offset)));
            }

            @Override
            public void dec(ByteBuffer leaf, int offset) {
                data.dec(BlockTime.dataBlock(leaf.getLong(offset)));
            }
        };
    }

    /**
     * Top level: the root of a device's bottom-level tree. A copied top-level leaf adds a reference to each root;
     * a released value drops one, deleting the device tree when nothing else holds it.
     */
    static ValueType subtree(TransactionManager tm, java.util.function.LongConsumer deleteDeviceTree) {
        return new ValueType() {
            @Override
            public int size() {
                return 8;
            }

            @Override
            public void inc(ByteBuffer leaf, int offset) {
                tm.inc(leaf.getLong(offset));
            }

            @Override
            public void dec(ByteBuffer leaf, int offset) {
                deleteDeviceTree.accept(leaf.getLong(offset));
            }
        };
    }
}
