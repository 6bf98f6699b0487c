//! No ROS 2 launch runtime exists on our machines (launch_ros is not on PyPI), so the launch file
//! is checked statically: it is valid Python, declares exactly the launch arguments the README
//! documents, its defaults agree with params/default.yaml, and it turns the image_topics argument
//! into a real list (launch_ros would join substitutions inside a list into one string).
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use std::collections::BTreeMap;
use std::process::Command;

/// (name, default) of every DeclareLaunchArgument, read from the file's ARGUMENTS table by
/// Python's own parser.
fn declared() -> BTreeMap<String, String> {
    let script = r#"
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read(), sys.argv[1])
compile(tree, sys.argv[1], "exec")
args = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "ARGUMENTS")
print(json.dumps({e.elts[0].value: (e.elts[1].value if isinstance(e.elts[1], ast.Constant) else ast.unparse(e.elts[1])) for e in args.elts}))
"#;
    serde_json::from_value(on_launch_file(script, &[])).unwrap()
}

/// `script` run by python3 with the launch file's path and `args`; its JSON output.
fn on_launch_file(script: &str, args: &[&str]) -> serde_json::Value {
    let launch = common::repo().join("launch/masked_fer.launch.py");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&launch)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn launch_arguments_match_the_readme_and_the_default_parameters() {
    let args = declared();
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let section = readme
        .split("### Launch arguments")
        .nth(1)
        .expect("README has a Launch arguments section");
    let documented: Vec<String> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.split('`').nth(1).unwrap_or("").to_string())
        .collect();
    let mut names: Vec<String> = args.keys().cloned().collect();
    names.sort();
    let mut doc_sorted = documented.clone();
    doc_sorted.sort();
    assert_eq!(names, doc_sorted, "launch file vs README");

    let params: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(common::repo().join("params/default.yaml")).unwrap(),
    )
    .unwrap();
    let p = &params["/**"]["ros__parameters"];
    assert_eq!(args["image_topics"], p["image_topics"][0].as_str().unwrap());
    assert_eq!(
        args["input_transport"],
        p["input_transport"].as_str().unwrap()
    );
    assert_eq!(
        args["qos_reliability"],
        p["qos"]["reliability"].as_str().unwrap()
    );
    assert_eq!(
        args["publish_debug_image"],
        p["publish_debug_image"].as_bool().unwrap().to_string()
    );
    assert_eq!(
        args["autostart"],
        p["autostart"].as_bool().unwrap().to_string()
    );
    assert!(
        args["params_file"].contains("'params', 'default.yaml'"),
        "{}",
        args["params_file"]
    );
}

/// The file's own `topic_list`, run by Python on what users type after `image_topics:=`.
#[test]
fn image_topics_argument_becomes_a_string_array() {
    let script = r#"
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read(), sys.argv[1])
fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "topic_list")
scope = {"yaml": __import__("yaml")}
exec(compile(ast.Module([fn], []), sys.argv[1], "exec"), scope)
out = {}
for text in sys.argv[2:]:
    try:
        out[text] = scope["topic_list"](text)
    except ValueError as e:
        out[text] = str(e)
print(json.dumps(out))
"#;
    let got = on_launch_file(
        script,
        &["/camera/image_raw", "[/a, /b]", "['/a']", "[]", "3"],
    );
    assert_eq!(
        got["/camera/image_raw"],
        serde_json::json!(["/camera/image_raw"])
    );
    assert_eq!(got["[/a, /b]"], serde_json::json!(["/a", "/b"]));
    assert_eq!(got["['/a']"], serde_json::json!(["/a"]));
    for bad in ["[]", "3"] {
        assert!(
            got[bad]
                .as_str()
                .unwrap()
                .contains("neither a topic nor a list"),
            "{bad}: {}",
            got[bad]
        );
    }
}
