package org.thinfs.core.format;

import java.nio.ByteBuffer;

/**
 * The superblock (block 0), FORMAT.md section 4. Only the first 364 bytes are used; the rest is zero.
 * {@code metadataNrBlocks} records the size at format time; the metadata space map's nr_blocks is authoritative.
 */
public record Superblock(int flags, long blocknr, byte[] uuid, long magic, int version, int time, long transactionId,
                         long heldRoot, SpaceMapRoot dataSpaceMap, SpaceMapRoot metadataSpaceMap,
                         long dataMappingRoot, long deviceDetailsRoot, int dataBlockSize, int metadataBlockSize,
                         long metadataNrBlocks, int compatFlags, int compatRoFlags, int incompatFlags) {
    public static final int USED_BYTES = 364;

    public static Superblock decode(ByteBuffer b) {
        byte[] uuid = new byte[16];
        b.duplicate().position(16).get(uuid);
        return new Superblock(b.getInt(4), b.getLong(8), uuid, b.getLong(32), b.getInt(40), b.getInt(44),
                b.getLong(48), b.getLong(56), SpaceMapRoot.decode(b, 64), SpaceMapRoot.decode(b, 192),
                b.getLong(320), b.getLong(328), b.getInt(336), b.getInt(340), b.getLong(344), b.getInt(352),
                b.getInt(356), b.getInt(360));
    }

    /** Writes every field into a zeroed block except the checksum, which the validator sets last. */
    public void encode(ByteBuffer b) {
        for (int i = 0; i < Layout.BLOCK_SIZE; i++) {
            b.put(i, (byte) 0);
        }
        b.putInt(4, flags);
        b.putLong(8, blocknr);
        b.duplicate().position(16).put(uuid, 0, Math.min(16, uuid.length));
        b.putLong(32, magic);
        b.putInt(40, version);
        b.putInt(44, time);
        b.putLong(48, transactionId);
        b.putLong(56, heldRoot);
        dataSpaceMap.encode(b, 64);
        metadataSpaceMap.encode(b, 192);
        b.putLong(320, dataMappingRoot);
        b.putLong(328, deviceDetailsRoot);
        b.putInt(336, dataBlockSize);
        b.putInt(340, metadataBlockSize);
        b.putLong(344, metadataNrBlocks);
        b.putInt(352, compatFlags);
        b.putInt(356, compatRoFlags);
        b.putInt(360, incompatFlags);
    }

    public boolean needsCheck() {
        return (flags & Layout.FLAG_NEEDS_CHECK) != 0;
    }

    /** A builder-style copy with the fields a commit changes. */
    public Superblock withCommitState(int newFlags, int newTime, long newTransactionId, long newHeldRoot,
                                      SpaceMapRoot data, SpaceMapRoot metadata, long mappingRoot, long detailsRoot) {
        return new Superblock(newFlags, blocknr, uuid, magic, version, newTime, newTransactionId, newHeldRoot, data,
                metadata, mappingRoot, detailsRoot, dataBlockSize, metadataBlockSize, metadataNrBlocks, compatFlags,
                compatRoFlags, incompatFlags);
    }

    public Superblock withFlags(int newFlags) {
        return withCommitState(newFlags, time, transactionId, heldRoot, dataSpaceMap, metadataSpaceMap,
                dataMappingRoot, deviceDetailsRoot);
    }

    public Superblock withBlocknr(long nr) {
        return new Superblock(flags, nr, uuid, magic, version, time, transactionId, heldRoot, dataSpaceMap,
                metadataSpaceMap, dataMappingRoot, deviceDetailsRoot, dataBlockSize, metadataBlockSize,
                metadataNrBlocks, compatFlags, compatRoFlags, incompatFlags);
    }

    public Superblock withSpaceMaps(SpaceMapRoot data, SpaceMapRoot metadata) {
        return new Superblock(flags, blocknr, uuid, magic, version, time, transactionId, heldRoot, data,
                metadata, dataMappingRoot, deviceDetailsRoot, dataBlockSize, metadataBlockSize,
                metadataNrBlocks, compatFlags, compatRoFlags, incompatFlags);
    }
}
