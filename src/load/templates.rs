//! Load, for config-file templates: the files of each app's template folder, read through the
//! [`Reader`] (confined and bounded like every input) into the source map.
//!
//! It runs once the apps are validated, since the folder is named by an app's
//! `spec.kdrender.configFiles`; [`crate::render::files`] places and compiles what it reads.

use std::collections::BTreeMap;

use super::{Reader, relative_path};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{App, AppSource};
use crate::source::{FileId, SourceMap};

/// The files of an app's template folder, in walk order.
#[derive(Debug, Default)]
pub struct TemplateFolder {
    pub files: Vec<TemplateFile>,
}

/// One file of a template folder.
#[derive(Debug)]
pub struct TemplateFile {
    /// Its path below the folder, `/`-separated: where the file goes (`roles/<role>/etc/x.j2`).
    pub name: String,
    /// Its text, in the source map.
    pub file: FileId,
}

/// Reads the template folder of every app that names one, in the apps' order.
pub fn read(
    apps: &BTreeMap<(AppSource, String), App>,
    reader: &mut Reader,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<(AppSource, String), TemplateFolder> {
    apps.iter()
        .filter_map(|(key, app)| {
            let folder = read_folder(app, reader, sources, diagnostics)?;
            Some((key.clone(), folder))
        })
        .collect()
}

/// Reads one app's template folder: `None` when the app names none or it is not a folder.
/// Files that cannot be read are errors at the app's `configFiles`, and left out.
fn read_folder(
    app: &App,
    reader: &mut Reader,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<TemplateFolder> {
    let (relative, origin) = app.config_files.as_ref()?;
    let folder = match reader.confine(&app.folder, relative) {
        Ok(folder) if reader.is_folder(&folder) => folder,
        Ok(_) => {
            diagnostics.push(
                Diagnostic::error(format!("config-file folder {relative} is not a folder"))
                    .at(*origin),
            );
            return None;
        }
        Err(error) => {
            diagnostics.push(Diagnostic::error(error.to_string()).at(*origin));
            return None;
        }
    };
    let mut read = TemplateFolder::default();
    for path in reader.walk(&folder, diagnostics) {
        match reader.read(&path) {
            Ok(text) => read.files.push(TemplateFile {
                name: relative_path(&folder, &path),
                file: sources.add(reader.display_path(&path), text),
            }),
            Err(error) => diagnostics.push(Diagnostic::error(error.to_string()).at(*origin)),
        }
    }
    Some(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Files, InputLimits};
    use crate::model::AppSource;
    use crate::source::{FileId, Origin, Span};

    fn app(folder: &std::path::Path, config_files: &str) -> App {
        App {
            name: "demo".into(),
            source: AppSource::Local,
            origin: Origin {
                file: FileId(0),
                span: Span::default(),
            },
            folder: folder.to_path_buf(),
            config_files: Some((
                config_files.into(),
                Origin {
                    file: FileId(0),
                    span: Span::new(1, 2),
                },
            )),
            pretty_name: String::new(),
            description: String::new(),
            distro_id: String::new(),
            version: String::new(),
            config_schema_version: 8,
            services: Vec::new(),
            roles: Vec::new(),
            selected_roles: Vec::new(),
            config_meta: Default::default(),
            capabilities: Vec::new(),
            systemd_required: false,
        }
    }

    /// A reader of the folder `root` on disk, as its repository root.
    fn reader_of(root: &std::path::Path) -> Reader {
        Reader::new(root, root, Files::Disk, InputLimits::default()).unwrap()
    }

    #[test]
    fn a_template_folder_is_read_in_order_into_the_sources() {
        let root = tempfile::tempdir().unwrap();
        let files = root.path().join("app/files");
        for (path, text) in [
            ("roles/r/etc/b.j2", "b"),
            ("all/a.j2", "a"),
            (".hidden/x.j2", "hidden"),
        ] {
            let path = files.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut reader = reader_of(root.path());
        let (mut sources, mut diagnostics) = (SourceMap::default(), Diagnostics::default());
        let app = app(&root.path().join("app"), "files");
        let folder = read_folder(&app, &mut reader, &mut sources, &mut diagnostics).unwrap();
        assert!(diagnostics.is_empty());
        let read: Vec<(&str, &str, &str)> = folder
            .files
            .iter()
            .map(|f| {
                let source = sources.get(f.file);
                (f.name.as_str(), source.path.as_str(), source.text.as_str())
            })
            .collect();
        assert_eq!(
            read,
            [
                ("all/a.j2", "app/files/all/a.j2", "a"),
                ("roles/r/etc/b.j2", "app/files/roles/r/etc/b.j2", "b"),
            ]
        );
    }

    #[test]
    fn a_template_folder_that_is_a_file_or_outside_the_root_is_an_error_at_the_app() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("app")).unwrap();
        std::fs::write(root.path().join("app/files"), "not a folder").unwrap();
        let mut reader = reader_of(root.path());
        for (relative, message) in [
            ("files", "config-file folder files is not a folder"),
            ("../..", "../.. leads outside the repository root"),
        ] {
            let (mut sources, mut diagnostics) = (SourceMap::default(), Diagnostics::default());
            let app = app(&root.path().join("app"), relative);
            assert!(read_folder(&app, &mut reader, &mut sources, &mut diagnostics).is_none());
            let errors: Vec<&Diagnostic> = diagnostics.iter().collect();
            assert_eq!(errors.len(), 1);
            assert!(
                errors[0].message.starts_with(message),
                "{}",
                errors[0].message
            );
            assert_eq!(errors[0].origin.map(|o| o.span), Some(Span::new(1, 2)));
        }
    }
}
