//! The names of a cluster's headless Service, StatefulSets, pods and member Services, and the
//! members' FQDNs.
//!
//! Without an Adoption, every name derives from the cluster's and the role's names
//! ([`object_names`]: shortened with a stable hash where Kubernetes' limits demand it, prefixed
//! where a Service name must begin with a letter). With one, the names KubeDirector gave the
//! cluster are kept: its headless Service, each adopted role's StatefulSet (which names the pods,
//! and through the claim templates their volumes), and each member's Service; members added
//! since get the Service name KubeDirector's naming scheme would have given them, and roles it
//! never ran get derived names.

use crate::model::{AdoptedRole, Adoption, AppRole, Cluster, NamingScheme, Settings};
use crate::render::names as object_names;

use super::{Member, RoleTopology};

/// The names a cluster's roles and members are built from.
pub struct Names<'m> {
    /// The headless Service.
    pub headless: String,
    /// `<headless>.<namespace>.svc.<cluster domain>`: every member's DNS subdomain.
    pub domain: String,
    cluster: &'m Cluster,
    adoption: Option<&'m Adoption>,
}

impl<'m> Names<'m> {
    pub fn of(
        cluster: &'m Cluster,
        adoption: Option<&'m Adoption>,
        namespace: &str,
        settings: &Settings,
    ) -> Names<'m> {
        let headless = match adoption {
            Some(adoption) => adoption.cluster_service.clone(),
            None => object_names::headless_service(&cluster.name),
        };
        let domain = format!("{headless}.{namespace}.svc.{}", settings.cluster_domain);
        Names {
            headless,
            domain,
            cluster,
            adoption,
        }
    }

    /// A role of the app: its StatefulSet's name and its members, with their node ids (one per
    /// member the cluster asks for).
    pub fn role<'a>(
        &self,
        app_role: &'a AppRole,
        cluster: &'a Cluster,
        node_ids: &[u32],
    ) -> RoleTopology<'a> {
        let cluster_role = cluster.roles.iter().find(|r| r.id == app_role.id);
        let adopted = self.adoption.and_then(|a| a.role(&app_role.id));
        let name = match adopted {
            Some(role) => role.statefulset.clone(),
            None => object_names::statefulset(&self.cluster.name, &app_role.id),
        };
        let members = (0u32..)
            .zip(node_ids)
            .map(|(ordinal, &node_id)| {
                let pod = object_names::pod(&name, ordinal);
                let service = self.member_service(adopted, ordinal, &pod);
                Member::new(ordinal, node_id, pod, &self.domain, service)
            })
            .collect();
        RoleTopology {
            app_role,
            cluster_role,
            name,
            members,
        }
    }

    /// A member's Service: KubeDirector's for an adopted member, the one KubeDirector's naming
    /// scheme gives a member added to an adopted cluster, else derived from the pod's name.
    fn member_service(&self, adopted: Option<&AdoptedRole>, ordinal: u32, pod: &str) -> String {
        let pinned = adopted
            .and_then(|role| role.members.get(usize::try_from(ordinal).ok()?))
            .and_then(|member| member.service.clone());
        match (pinned, self.adoption.map(|a| a.naming_scheme)) {
            (Some(service), _) => service,
            (None, Some(NamingScheme::Uid)) => object_names::prefixed_member_service(pod),
            (None, Some(NamingScheme::CrNameRole) | None) => object_names::member_service(pod),
        }
    }
}
