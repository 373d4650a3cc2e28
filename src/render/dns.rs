//! Short member names resolve to the pods first: the cluster's DNS domain leads each member's
//! search list, as KubeDirector put it.
//!
//! KubeDirector's postStart hook rewrote `/etc/resolv.conf` in the app container, putting
//! `<headless Service>.<the first search domain>` first and keeping every default domain after
//! it. A pod spec cannot say that: `dnsConfig.searches` is appended to the defaults, where
//! `<pod>.<namespace>.svc…` (the member's own Service, which forwards declared ports only) wins
//! over `<pod>.<cluster>.<namespace>.svc…`, and `dnsPolicy: None` would need the cluster's DNS
//! server address, which a repository does not know. So the pod keeps the appended domain, and
//! an init step (`kdrender-dns`) moves it to the front of the search list before the app starts,
//! as the app's own user: the file every container of the pod mounts. Where that user may not
//! write it (a non-root app, as with KubeDirector's hook), the step says so in its log and the
//! appended domain still resolves short names, after the defaults.

use super::value::value;
use serde_json::Value;

use super::names::{DNS_CONTAINER, RESOLV_CONF};
use super::security::{self, InitUser};

/// The init step that puts `domain` first in the pod's DNS search list: the role's image and
/// resources, as the app's user, without capabilities. It never fails the pod.
pub fn container(image: &str, domain: &str, resources: &Value) -> Value {
    value!({
        "name": DNS_CONTAINER,
        "image": image,
        "command": ["/bin/sh", "-c", script(domain)],
        "resources": resources,
        "securityContext": security::init_container_context(InitUser::App),
    })
}

/// `search_first FILE DOMAIN` rewrites each `search` line of FILE to begin with DOMAIN, the
/// other domains kept in their order after it; the script calls it on the pod's resolv.conf.
/// It is plain POSIX shell (no sed, awk or bash), since the role's image may have nothing more,
/// and holds no `${`, which would turn Flux's substitution off for the StatefulSet.
fn script(domain: &str) -> String {
    let domain = shell_quote(domain);
    format!(
        "# Short member names resolve to the pods first: the cluster's domain leads the search list.\n\
         search_first() {{\n\
         \x20 file=$1 domain=$2\n\
         \x20 [ -f \"$file\" ] || return 1\n\
         \x20 new=$(\n\
         \x20   set -f\n\
         \x20   while IFS= read -r line || [ -n \"$line\" ]; do\n\
         \x20     set -- $line\n\
         \x20     if [ $# -gt 0 ] && [ \"$1\" = search ]; then\n\
         \x20       shift\n\
         \x20       line=\"search $domain\"\n\
         \x20       for name in \"$@\"; do\n\
         \x20         [ \"$name\" = \"$domain\" ] || line=\"$line $name\"\n\
         \x20       done\n\
         \x20     fi\n\
         \x20     printf '%s\\n' \"$line\"\n\
         \x20   done <\"$file\"\n\
         \x20 ) || return 1\n\
         \x20 [ \"$new\" = \"$(cat \"$file\")\" ] && return 0\n\
         \x20 [ -w \"$file\" ] || return 1\n\
         \x20 printf '%s\\n' \"$new\" >\"$file\"\n\
         }}\n\
         search_first {RESOLV_CONF} {domain} 2>/dev/null ||\n\
         \x20 echo \"{DNS_CONTAINER}: {RESOLV_CONF} is not writable by this user, so short member names resolve to their Services before their pods\" >&2\n\
         exit 0\n"
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the step's script on `resolv` (a resolv.conf's text) and returns the text after, and
    /// what the step wrote to its log.
    fn rewritten(resolv: &str, domain: &str) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("resolv.conf");
        std::fs::write(&file, resolv).unwrap();
        let script = script(domain).replace(RESOLV_CONF, &file.display().to_string());
        let output = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(output.status.success(), "{script}");
        let log = String::from_utf8(output.stderr).unwrap();
        (std::fs::read_to_string(&file).unwrap(), log)
    }

    #[test]
    fn the_clusters_domain_moves_to_the_front_and_the_defaults_stay_in_order() {
        // What kubelet writes for a pod whose dnsConfig appends the cluster's domain.
        let kubelet = "search ns.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
                       nameserver 10.96.0.10\n\
                       options ndots:5\n";
        let with_ours = kubelet.replace("corp.example", "corp.example c.ns.svc.cluster.local");
        let (after, log) = rewritten(&with_ours, "c.ns.svc.cluster.local");
        assert_eq!(
            after,
            "search c.ns.svc.cluster.local ns.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
             nameserver 10.96.0.10\n\
             options ndots:5\n"
        );
        assert_eq!(log, "");
        // Again (an init step run twice in one pod): nothing changes.
        assert_eq!(rewritten(&after, "c.ns.svc.cluster.local").0, after);
    }

    #[test]
    fn a_file_it_cannot_rewrite_is_noted_and_the_pod_starts() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: neither read nor written.
        let script = script("c.ns.svc.cluster.local")
            .replace(RESOLV_CONF, &dir.path().display().to_string());
        let output = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(output.status.success());
        let log = String::from_utf8(output.stderr).unwrap();
        assert!(log.starts_with("kdrender-dns: "), "{log}");
    }
}
