//! Host-side bindings of the plugin contract (`wit/plugin.wit`), and nothing
//! else: the host's implementation of the `log` import lives in
//! [`crate::engine::state`].

// Generated code: the contract's `///` comments become the docs of its
// types and functions, but the world's struct, its instantiation helpers and
// the `add_to_linker` functions come with none and cannot be given any here.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit",
});

pub use self::weir::plugin::types as wit;
