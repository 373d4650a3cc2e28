//! The settings file (`kdrender.yaml`) merged with the command line into [`Settings`].
//!
//! Namespace precedence, highest first: a cluster's own `metadata.namespace` (applied later, per
//! cluster), `--namespace`, Argo CD's `ARGOCD_APP_NAMESPACE`, the settings file, `default`.

use crate::diag::{Diagnostic, Diagnostics};
use crate::load::Document;
use crate::model::{ServiceType, Settings};
use crate::names;

use super::{Overrides, SchemaKind, check_metadata_map, decode};

pub fn validate(
    document: Option<&Document>,
    overrides: &Overrides,
    diagnostics: &mut Diagnostics,
) -> Settings {
    let spec = document
        .and_then(|d| decode::<crate::raw::Settings>(SchemaKind::Settings, d, diagnostics))
        .map(|s| s.spec)
        .unwrap_or_default();
    if let Some(document) = document {
        for (field, map, labels) in [
            ("labels", &spec.labels, true),
            ("annotations", &spec.annotations, false),
            ("podLabels", &spec.pod_labels, true),
            ("podAnnotations", &spec.pod_annotations, false),
            ("serviceLabels", &spec.service_labels, true),
            ("serviceAnnotations", &spec.service_annotations, false),
        ] {
            check_metadata_map(
                document,
                &format!("/spec/{field}"),
                map,
                labels,
                diagnostics,
            );
        }
        check_names(document, &spec, diagnostics);
        for reserved in [
            "app.kubernetes.io/instance",
            "argocd.argoproj.io/tracking-id",
        ] {
            if spec.labels.contains_key(reserved) || spec.annotations.contains_key(reserved) {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "{reserved} is set by Argo CD for resource tracking; kdrender never emits it"
                    ))
                    .at(document.origin("/spec")),
                );
            }
        }
    }
    let mut labels = spec.labels;
    for (key, value) in &overrides.labels {
        let problems = [
            names::check_qualified_name(key),
            names::check_label_value(value),
        ];
        for problem in problems.into_iter().filter_map(Result::err) {
            diagnostics.push(Diagnostic::error(format!(
                "plugin parameter \"labels\": {problem}"
            )));
        }
        if key == "app.kubernetes.io/instance" {
            diagnostics.push(Diagnostic::error(
                "plugin parameter \"labels\": app.kubernetes.io/instance is set by Argo CD for resource tracking",
            ));
        }
        labels.insert(key.clone(), value.clone());
    }
    let mut namespace = "default".to_string();
    for (candidate, source) in [
        (spec.namespace.as_deref(), "the settings file"),
        (
            overrides.argocd_namespace.as_deref(),
            "ARGOCD_APP_NAMESPACE",
        ),
        (
            overrides.namespace.as_deref(),
            "--namespace or the namespace parameter",
        ),
    ] {
        let Some(candidate) = candidate.filter(|c| !c.is_empty()) else {
            continue;
        };
        match names::check_dns1123_label(candidate) {
            Ok(()) => namespace = candidate.to_string(),
            Err(message) => diagnostics.push(Diagnostic::error(format!(
                "namespace from {source} is not valid: {message}"
            ))),
        }
    }
    Settings {
        namespace,
        cluster_domain: spec
            .cluster_domain
            .unwrap_or_else(|| "cluster.local".to_string()),
        default_service_type: spec
            .default_service_type
            .as_deref()
            .and_then(ServiceType::parse)
            .unwrap_or(ServiceType::ClusterIp),
        default_storage_class: spec.default_storage_class_name,
        labels,
        annotations: spec.annotations,
        pod_labels: spec.pod_labels,
        pod_annotations: spec.pod_annotations,
        service_labels: spec.service_labels,
        service_annotations: spec.service_annotations,
        native_systemd_support: spec.native_systemd_support,
        catalog_overrides: spec.catalog_overrides.into_iter().collect(),
        network_policy: spec.network_policy,
    }
}

/// Names that Kubernetes or DNS would refuse only after the render: the cluster domain, which
/// ends every member's FQDN, and the default storage class.
fn check_names(
    document: &Document,
    spec: &crate::raw::SettingsSpec,
    diagnostics: &mut Diagnostics,
) {
    if let Some(domain) = &spec.cluster_domain
        && let Err(problem) = names::check_dns_name(domain)
    {
        diagnostics.push(
            Diagnostic::error(format!("clusterDomain {problem}"))
                .at(document.origin("/spec/clusterDomain"))
                .help("it ends every member's FQDN (<pod>.<cluster>.<namespace>.svc.<clusterDomain>), which DNS limits to 253 characters"),
        );
    }
    if let Some(class) = &spec.default_storage_class_name
        && let Err(problem) = names::check_dns1123_subdomain(class)
    {
        diagnostics.push(
            Diagnostic::error(format!(
                "defaultStorageClassName {problem} (a DNS-1123 subdomain)"
            ))
            .at(document.origin("/spec/defaultStorageClassName")),
        );
    }
}
