//! Webview tuning for a reading app on modest laptops.
//!
//! On Linux, WebKitGTK defaults suit a web browser: GPU compositing (which under software GL
//! loads Mesa's llvmpipe and ~40 MB of LLVM into the web process) and large memory caches for
//! back/forward navigation between sites. Stopover shows one local document at a time, so it
//! asks for neither. Measured effect in BENCHMARKS.md.

use tauri::WebviewWindow;

#[cfg(target_os = "linux")]
pub fn tune(window: &WebviewWindow) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    })
}

#[cfg(not(target_os = "linux"))]
pub fn tune(_window: &WebviewWindow) -> tauri::Result<()> {
    Ok(())
}
