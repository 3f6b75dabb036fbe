//! The `#[handler]` attribute of the `wasi-lambda` SDK. Use it through `wasi_lambda::handler`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{FnArg, ItemFn, ReturnType, parse_macro_input, spanned::Spanned};

const SHAPE: &str =
    "expected `fn name(event: E, ctx: wasi_lambda::Context) -> Result<R, wasi_lambda::Error>`";

/// Turns `fn name(event: E, ctx: Context) -> Result<R, Error>` into a Lambda handler.
/// See `wasi_lambda::handler` for the documentation.
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new(attr.span(), "#[wasi_lambda::handler] takes no arguments")
            .to_compile_error()
            .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    match expand(&function) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

fn check_signature(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    if let Some(asyncness) = sig.asyncness {
        return Err(syn::Error::new(
            asyncness.span(),
            format!(
                "a wasi-lambda handler runs synchronously inside the wasm module; remove `async`. {SHAPE}"
            ),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!(
                "a handler cannot be generic: name the concrete event and response types. {SHAPE}"
            ),
        ));
    }
    if sig.inputs.len() != 2 {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!(
                "a handler takes exactly two parameters, the event and the context, found {}. {SHAPE}",
                sig.inputs.len()
            ),
        ));
    }
    if let Some(receiver @ FnArg::Receiver(_)) = sig.inputs.first() {
        return Err(syn::Error::new(
            receiver.span(),
            format!("a handler is a free function, not a method; remove `self`. {SHAPE}"),
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!("a handler returns `Result<R, Error>` so Lambda can report failures. {SHAPE}"),
        ));
    }
    if sig.ident == "main" {
        return Err(syn::Error::new(
            sig.ident.span(),
            "a handler cannot be named `main`: rename it, e.g. to `handler`",
        ));
    }
    Ok(())
}

fn expand(function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    check_signature(function)?;
    let name = &function.sig.ident;
    Ok(quote! {
        #function

        // Checks the event, response and error types on every target, so a wrong type is
        // reported where the handler is written, not only when building for wasm32.
        const _: () = ::wasi_lambda::__private::assert_handler(#name);

        // Native targets: built with `--crate-type bin` this is the `bootstrap`'s entry point
        // (provided.al2023); in the library build it is simply unused.
        #[cfg(not(target_family = "wasm"))]
        #[allow(dead_code)]
        fn main() {
            ::wasi_lambda::__private::native::run(#name)
        }

        // The exports of the `wasi-lambda:handler/lambda-handler` world (canonical ABI).
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[unsafe(export_name = "handle")]
            unsafe extern "C" fn __wasi_lambda_handle(args: *mut u8) -> *mut u8 {
                unsafe { ::wasi_lambda::__private::wasm::handle(args, #name) }
            }

            #[unsafe(export_name = "cabi_post_handle")]
            unsafe extern "C" fn __wasi_lambda_post_handle(ret: *mut u8) {
                unsafe { ::wasi_lambda::__private::wasm::post_handle(ret) }
            }

            #[unsafe(export_name = "cabi_realloc")]
            unsafe extern "C" fn __wasi_lambda_realloc(
                old_ptr: *mut u8,
                old_len: usize,
                align: usize,
                new_len: usize,
            ) -> *mut u8 {
                unsafe { ::wasi_lambda::__private::wasm::realloc(old_ptr, old_len, align, new_len) }
            }

            #[unsafe(export_name = "wasi_lambda_panic_info")]
            extern "C" fn __wasi_lambda_panic_info() -> *const u8 {
                ::wasi_lambda::__private::wasm::panic_info()
            }
        };
    })
}
