// Generates the C++ side of the bridge (header and glue source) with cxx-build and compiles the
// glue into this static library, so C++ links one archive. CMake includes the header from
// <target-dir>/cxxbridge/streamflow-cql/src/bridge.rs.h (and rust/cxx.h next to it).
fn main() {
    cxx_build::bridge("src/bridge.rs").std("c++17").compile("streamflow_cql_bridge");
    println!("cargo:rerun-if-changed=src/bridge.rs");
    println!("cargo:rerun-if-env-changed=CXX");
    println!("cargo:rerun-if-env-changed=CXXFLAGS");
}
