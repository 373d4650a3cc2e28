//! The settings file (`kdrender.yaml`) merged with the command line into [`Settings`].
//!
//! Namespace precedence, highest first: a cluster's own `metadata.namespace` (applied later, per
//! cluster), `--namespace`, Argo CD's `ARGOCD_APP_NAMESPACE`, the settings file, `default`.

use crate::diag::Diagnostics;
use crate::load::Document;
use crate::model::{ServiceType, Settings, StringMap};
use crate::names;
use crate::raw::SettingsSpec;

use super::{
    ARGOCD_INSTANCE_LABEL, ARGOCD_TRACKING_ID, Overrides, SchemaKind, check_metadata_map,
    check_role_metadata, decode, diags,
};

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
        check_metadata(document, &spec, diagnostics);
        check_names(document, &spec, diagnostics);
        check_tracking_keys(document, &spec, diagnostics);
    }
    let labels = with_parameter_labels(spec.labels, overrides, diagnostics);
    Settings {
        namespace: namespace(spec.namespace.as_deref(), overrides, diagnostics),
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
        pod_labels: spec.metadata.pod_labels,
        pod_annotations: spec.metadata.pod_annotations,
        service_labels: spec.metadata.service_labels,
        service_annotations: spec.metadata.service_annotations,
        native_systemd_support: spec.native_systemd_support,
        catalog_overrides: spec.catalog_overrides.into_iter().collect(),
        network_policy: spec.network_policy,
        configcli_image: configcli_image(spec.configcli_image),
        placement: match document {
            Some(document) => crate::patch::placement::check(document, spec.placement),
            None => Vec::new(),
        },
        patches: match document {
            Some(document) => crate::patch::check(document, spec.patches, diagnostics),
            None => Vec::new(),
        },
    }
}

/// KubeDirector's operator image of its last release, which carries configcli 0.8 as
/// `/home/kubedirector/configcli.tgz`.
pub const DEFAULT_CONFIGCLI_IMAGE: &str = "docker.io/bluek8s/kubedirector:0.11.0";

/// The image configcli is installed from: the settings' (`""`: none), else KubeDirector's.
fn configcli_image(from_settings: Option<String>) -> Option<String> {
    match from_settings {
        None => Some(DEFAULT_CONFIGCLI_IMAGE.to_string()),
        Some(image) if image.is_empty() => None,
        Some(image) => Some(image),
    }
}

/// Every label and annotation the settings add is well formed.
fn check_metadata(document: &Document, spec: &SettingsSpec, diagnostics: &mut Diagnostics) {
    check_metadata_map(document, "/spec/labels", &spec.labels, true, diagnostics);
    check_metadata_map(
        document,
        "/spec/annotations",
        &spec.annotations,
        false,
        diagnostics,
    );
    check_role_metadata(document, "/spec", &spec.metadata, diagnostics);
    for (index, entry) in spec.placement.iter().enumerate() {
        if let Some(selector) = &entry.node_selector {
            let pointer = format!("/spec/placement/{index}/nodeSelector");
            check_metadata_map(document, &pointer, selector, true, diagnostics);
        }
    }
}

/// Names that Kubernetes or DNS would refuse only after the render: the cluster domain, which
/// ends every member's FQDN, and the default storage class.
fn check_names(document: &Document, spec: &SettingsSpec, diagnostics: &mut Diagnostics) {
    if let Some(domain) = &spec.cluster_domain
        && let Err(problem) = names::check_dns_name(domain)
    {
        let at = document.origin("/spec/clusterDomain");
        diagnostics.push(diags::bad_cluster_domain(&problem, at));
    }
    if let Some(class) = &spec.default_storage_class_name
        && let Err(problem) = names::check_dns1123_subdomain(class)
    {
        let at = document.origin("/spec/defaultStorageClassName");
        diagnostics.push(diags::bad_default_storage_class(&problem, at));
    }
}

/// Argo CD sets its tracking label and annotation itself; the settings may not add them.
fn check_tracking_keys(document: &Document, spec: &SettingsSpec, diagnostics: &mut Diagnostics) {
    for key in [ARGOCD_INSTANCE_LABEL, ARGOCD_TRACKING_ID] {
        if spec.labels.contains_key(key) || spec.annotations.contains_key(key) {
            diagnostics.push(diags::set_by_argocd(key, document.origin("/spec")));
        }
    }
}

/// The settings' labels with the Argo CD `labels` parameter's over them, each checked.
fn with_parameter_labels(
    mut labels: StringMap,
    overrides: &Overrides,
    diagnostics: &mut Diagnostics,
) -> StringMap {
    for (key, value) in &overrides.labels {
        let problems = [
            names::check_qualified_name(key),
            names::check_label_value(value),
        ];
        for problem in problems.into_iter().filter_map(Result::err) {
            diagnostics.push(diags::bad_parameter_label(&problem));
        }
        if key == ARGOCD_INSTANCE_LABEL {
            diagnostics.push(diags::parameter_sets_tracking_label(key));
        }
        labels.insert(key.clone(), value.clone());
    }
    labels
}

/// The namespace for clusters that name none: the last valid one of the settings file, Argo
/// CD's destination and `--namespace`, else `default`. An invalid one is an error.
fn namespace(
    from_settings: Option<&str>,
    overrides: &Overrides,
    diagnostics: &mut Diagnostics,
) -> String {
    let mut namespace = "default".to_string();
    for (candidate, source) in [
        (from_settings, "the settings file"),
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
            Err(problem) => diagnostics.push(diags::bad_namespace_from(source, &problem)),
        }
    }
    namespace
}
