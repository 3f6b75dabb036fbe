//! The `#[handler]` and `#[main]` attributes of the `wasi-lambda` SDK. Use them through
//! `wasi_lambda::handler` and `wasi_lambda::main`.

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ItemFn, ReturnType, parse_macro_input, spanned::Spanned};

const SHAPE: &str = "expected `fn name(event: E, ctx: wasi_lambda::Context) -> Result<R, wasi_lambda::Error>` \
     or `async fn name(event: LambdaEvent<E>) -> Result<R, Error>`";

const MAIN_SHAPE: &str = "expected `#[wasi_lambda::main] async fn main() -> Result<(), Error>` \
     that ends with `wasi_lambda::run(service_fn(handler)).await`";

/// Turns `fn name(event: E, ctx: Context) -> Result<R, Error>`, or
/// `async fn name(event: LambdaEvent<E>) -> Result<R, Err>`, into a Lambda handler.
/// See `wasi_lambda::handler` for the documentation.
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(err) = no_arguments(attr, "handler") {
        return err;
    }
    let function = parse_macro_input!(item as ItemFn);
    let expanded = if function.sig.asyncness.is_some() {
        expand_async_handler(&function)
    } else {
        expand_handler(&function)
    };
    expanded.unwrap_or_else(|err| err.to_compile_error()).into()
}

/// Makes `async fn main()` the function's init: it builds what every invocation shares, then
/// serves with `wasi_lambda::run(service).await`. See `wasi_lambda::main`.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(err) = no_arguments(attr, "main") {
        return err;
    }
    let function = parse_macro_input!(item as ItemFn);
    expand_main(&function)
        .unwrap_or_else(|err| err.to_compile_error())
        .into()
}

fn no_arguments(attr: TokenStream, name: &str) -> Option<TokenStream> {
    if attr.is_empty() {
        return None;
    }
    let attr = proc_macro2::TokenStream::from(attr);
    Some(
        syn::Error::new(
            attr.span(),
            format!("#[wasi_lambda::{name}] takes no arguments"),
        )
        .to_compile_error()
        .into(),
    )
}

fn check_common(function: &ItemFn, shape: &str) -> syn::Result<()> {
    let sig = &function.sig;
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!(
                "a handler cannot be generic: name the concrete event and response types. {shape}"
            ),
        ));
    }
    if let Some(receiver @ FnArg::Receiver(_)) = sig.inputs.first() {
        return Err(syn::Error::new(
            receiver.span(),
            format!("a handler is a free function, not a method; remove `self`. {shape}"),
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!("a handler returns `Result<R, Error>` so Lambda can report failures. {shape}"),
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

fn check_signature(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    check_common(function, SHAPE)?;
    if sig.inputs.len() != 2 {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!(
                "a handler takes exactly two parameters, the event and the context, found {}. {SHAPE}",
                sig.inputs.len()
            ),
        ));
    }
    Ok(())
}

fn realloc_export() -> proc_macro2::TokenStream {
    quote! {
        #[unsafe(export_name = "cabi_realloc")]
        unsafe extern "C" fn __wasi_lambda_realloc(
            old_ptr: *mut u8,
            old_len: usize,
            align: usize,
            new_len: usize,
        ) -> *mut u8 {
            unsafe { ::wasi_lambda::__private::wasm::realloc(old_ptr, old_len, align, new_len) }
        }
    }
}

fn expand_handler(function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    check_signature(function)?;
    let name = &function.sig.ident;
    let realloc = realloc_export();
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
            ::wasi_lambda::__private::native::run_handler(#name)
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

            #realloc
        };
    })
}

/// `#[handler] async fn name(event: LambdaEvent<E>) -> Result<R, Err>`: a `main` that serves
/// it, as `#[main] async fn main() { run(service_fn(name)).await }` would.
fn expand_async_handler(function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    check_common(function, SHAPE)?;
    let sig = &function.sig;
    if sig.inputs.len() != 1 {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!(
                "an async handler takes one parameter, `event: LambdaEvent<E>` (the context is \
                 `event.context`), found {}. {SHAPE}",
                sig.inputs.len()
            ),
        ));
    }
    let name = &sig.ident;
    let entry = entry_points(
        &quote! { __wasi_lambda_serve },
        &quote! {
            async fn __wasi_lambda_serve() -> ::core::result::Result<(), ::wasi_lambda::runtime::Error> {
                ::wasi_lambda::run(::wasi_lambda::service_fn(#name)).await
            }
        },
    );
    Ok(quote! {
        #function
        #entry
    })
}

fn expand_main(function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("#[wasi_lambda::main] goes on an `async fn`; add `async`. {MAIN_SHAPE}"),
        ));
    }
    if !sig.inputs.is_empty() || !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("main takes no parameters and no generics. {MAIN_SHAPE}"),
        ));
    }
    // The user's function keeps its body under another name; `main` becomes the entry point.
    let mut user = function.clone();
    user.sig.ident = format_ident!("__wasi_lambda_main");
    user.vis = syn::Visibility::Inherited;
    let user_name = &user.sig.ident;
    Ok(entry_points(&quote! { #user_name }, &quote! { #user }))
}

/// The entry points of a module whose init is the async function `user_main`, defined by
/// `definition`: natively the `bootstrap`'s `main`, on wasm32 the exports of the
/// `wasi-lambda:handler/lambda-service` world.
fn entry_points(
    user_main: &proc_macro2::TokenStream,
    definition: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let realloc = realloc_export();
    quote! {
        #[allow(dead_code)]
        #definition

        // Natively, built with `--crate-type bin`: the `bootstrap`'s entry point, a tokio
        // current-thread runtime running `main`. In the library build it is simply unused.
        #[cfg(not(target_family = "wasm"))]
        #[allow(dead_code)]
        fn main() {
            ::wasi_lambda::__private::native::main(#user_main())
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            fn __wasi_lambda_main_future() -> ::wasi_lambda::__private::wasm::MainFuture {
                ::wasi_lambda::__private::wasm::main_future(#user_main())
            }

            #[unsafe(export_name = "init")]
            extern "C" fn __wasi_lambda_init() -> *mut u8 {
                ::wasi_lambda::__private::wasm::init(__wasi_lambda_main_future)
            }

            #[unsafe(export_name = "cabi_post_init")]
            unsafe extern "C" fn __wasi_lambda_post_init(ret: *mut u8) {
                unsafe { ::wasi_lambda::__private::wasm::post_init(ret) }
            }

            #[unsafe(export_name = "handle")]
            unsafe extern "C" fn __wasi_lambda_handle(args: *mut u8) -> *mut u8 {
                unsafe { ::wasi_lambda::__private::wasm::handle_service(args, __wasi_lambda_main_future) }
            }

            #[unsafe(export_name = "cabi_post_handle")]
            unsafe extern "C" fn __wasi_lambda_post_handle(ret: *mut u8) {
                unsafe { ::wasi_lambda::__private::wasm::post_handle(ret) }
            }

            #realloc
        };
    }
}
