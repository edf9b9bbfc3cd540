//! Host-side bindings of the plugin contract (`wit/plugin.wit`), and nothing
//! else: the host's implementation of the `log` import lives in
//! [`crate::engine::state`].

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit",
});

pub use self::weir::plugin::types as wit;
