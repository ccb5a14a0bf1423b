package org.thinfs.core.tools;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What deleting each group of devices (a snapshot set) would free: the data blocks that only the group's devices map,
 * counted as thin_ls counts (from the mappings, not the space map). One pass counts every data block's uses over all
 * devices; then each group's devices are streamed again and a block is the group's alone when the group's own uses of
 * it are all of its uses. Cost: the mappings, twice; memory: a byte per data block plus the group's shared blocks.
 */
public final class GroupSpace {
    private GroupSpace() {
    }

    /** Per group (in the order given), the data blocks that deleting all of its devices frees. */
    public static Map<String, Long> exclusiveBlocks(MetadataReader reader, Map<String, List<Long>> groups) {
        CountArray uses = new CountArray();
        for (long id : reader.deviceRoots().keySet()) {
            reader.mappings(id, new ThinLs.DataSink(uses::increment));
        }
        Map<String, Long> out = new LinkedHashMap<>();
        groups.forEach((name, ids) -> {
            long[] alone = {0};
            Map<Long, Long> ownUses = new HashMap<>();          // blocks with more than one use in all
            for (long id : ids) {
                if (!reader.deviceRoots().containsKey(id)) {
                    continue;
                }
                reader.mappings(id, new ThinLs.DataSink(b -> {
                    if (uses.get(b) == 1) {
                        alone[0]++;
                    } else {
                        ownUses.merge(b, 1L, Long::sum);
                    }
                }));
            }
            ownUses.forEach((b, n) -> {
                if (uses.get(b) == n) {
                    alone[0]++;
                }
            });
            out.put(name, alone[0]);
        });
        return out;
    }
}
