package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.model.PoolFileSystem;

/**
 * One pool operation that works the same mounted and not: through the daemon's control socket when one answers,
 * else on the pool's files (under the pool's lock, as LivePool#offline takes it). The reply of the offline call is
 * shaped like the daemon's, so commands print one way.
 */
final class PoolOps {
    interface Offline {
        JsonNode run(PoolFileSystem fs) throws Exception;
    }

    private PoolOps() {
    }

    static JsonNode run(PoolDir pool, ObjectNode request, Offline offline) throws Exception {
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                return c.call(request);
            }
        }
        JsonNode[] reply = new JsonNode[1];
        LivePool.offline(pool, () -> {
            try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
                reply[0] = offline.run(fs);
            }
        });
        return reply[0];
    }
}
