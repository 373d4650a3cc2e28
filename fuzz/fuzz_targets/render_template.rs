//! Templates: any source, rendered in kdrender's template sandbox with a realistic topology.
//! Errors are fine; panics, stack overflows and endless loops (fuel) are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let variables = serde_json::json!({
        "cluster": {"name": "kafka", "namespace": "streaming", "domain": "kafka.streaming.svc.cluster.local"},
        "app": {"name": "kafka", "version": "3.7.2", "config_meta": {"partitions": "6"}},
        "roles": {"broker": {"count": 3, "fqdns": ["a", "b", "c"], "members": [{"name": "a", "ordinal": 0}]}},
        "member": {"name": "kafka-broker-0", "ordinal": 0, "node_id": 1001},
    });
    let _ = kdrender::render::files::render_source(source, &variables);
});
