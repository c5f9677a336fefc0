//! The mediators, one file each, and the registry that maps an XML tag to its factory.
//!
//! Adding a mediator: write `<tag>.rs` with a type implementing [`super::Mediator`] and a
//! `build` function, then add one line to [`REGISTRY`].

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;

use super::Mediator;

mod call;
mod direction;
mod drop;
mod filter;
mod header;
mod log;
mod makefault;
mod payload_factory;
mod loopback;
mod property;
mod respond;
mod send;
mod sequence_ref;
mod switch;

/// Builds a mediator from its element.
pub type Factory = fn(&Element, &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError>;

/// Every mediator the configuration language offers so far, by tag.
pub const REGISTRY: &[(&str, Factory)] = &[
    ("call", call::build),
    ("drop", drop::build),
    ("filter", filter::build),
    ("header", header::build),
    ("in", direction::build_in),
    ("log", log::build),
    ("loopback", loopback::build),
    ("makefault", makefault::build),
    ("out", direction::build_out),
    ("payloadFactory", payload_factory::build),
    ("property", property::build),
    ("respond", respond::build),
    ("send", send::build),
    ("sequence", sequence_ref::build),
    ("switch", switch::build),
];

/// For mediators that take no child elements.
pub(crate) fn no_children(el: &Element) -> Result<(), ConfigError> {
    match el.elements().next() {
        Some(c) => Err(c.error(format!("<{}> takes no <{}>", el.name, c.name))),
        None => Ok(()),
    }
}

pub fn factory(tag: &str) -> Option<Factory> {
    REGISTRY.iter().find(|(t, _)| *t == tag).map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use crate::mediation::testing::{deployment, engine, load_errors, request, run, SOAP11_QUOTE};
    use crate::mediation::Flow;
    use crate::message::{Direction, Scope};
    use actix_web::http::StatusCode;

    #[actix_web::test]
    async fn property_sets_typed_values_in_scopes_and_removes() {
        let e = engine(deployment(
            r#"<sequence name="s">
                 <property name="a" value="42" type="INTEGER"/>
                 <property name="b" value="true" type="BOOLEAN" scope="axis2"/>
                 <property name="X-Trace" value="t1" scope="transport"/>
                 <property name="c" value="order-1234-x" pattern="order-(\d+)-.*" group="1"/>
                 <property name="d" expression="get-property('a')"/>
                 <property name="gone" value="1"/>
                 <property name="gone" action="remove"/>
               </sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        assert_eq!(run(&e, "s", &mut ctx).await.unwrap(), Flow::Continue);
        assert_eq!(ctx.properties.get(Scope::Default, "a").unwrap().to_string(), "42");
        assert!(ctx.properties.flag(Scope::Axis2, "b"));
        assert_eq!(ctx.headers.get("x-trace").unwrap(), "t1");
        assert_eq!(ctx.properties.get(Scope::Default, "c").unwrap().to_string(), "1234");
        assert_eq!(ctx.properties.get(Scope::Default, "d").unwrap().to_string(), "42");
        assert!(ctx.properties.get(Scope::Default, "gone").is_none());

        let e = engine(deployment(r#"<sequence name="s"><property name="n" value="x" type="INTEGER"/></sequence>"#));
        let err = run(&e, "s", &mut request("text/xml", SOAP11_QUOTE)).await.unwrap_err();
        assert!(err.message.contains("not a valid INTEGER"), "{err}");
        assert!(load_errors(r#"<sequence name="s"><property name="n" value="1" scope="registry"/></sequence>"#).contains("scope 'registry'"));
        assert!(load_errors(r#"<sequence name="s"><property name="n" value="1" expression="x"/></sequence>"#).contains("not both"));
    }

    #[actix_web::test]
    async fn filter_and_switch_choose_branches_by_whole_match() {
        let e = engine(deployment(
            r#"<sequence name="s">
                 <filter source="get-property('To')" regex=".*/Test">
                   <then><property name="branch" value="then"/></then>
                   <else><property name="branch" value="else"/></else>
                 </filter>
                 <filter source="get-property('To')" regex="Test"><property name="partial" value="matched"/></filter>
                 <switch source="get-property('MESSAGE_FORMAT')">
                   <case regex="soap1."><property name="v" value="soap"/></case>
                   <case regex="soap11"><property name="v" value="second"/></case>
                   <default><property name="v" value="other"/></default>
                 </switch>
               </sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(ctx.properties.get(Scope::Default, "branch").unwrap().to_string(), "then");
        assert!(ctx.properties.get(Scope::Default, "partial").is_none(), "regexes match whole strings");
        assert_eq!(ctx.properties.get(Scope::Default, "v").unwrap().to_string(), "soap");
        let mut ctx = request("application/xml", "<a/>");
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(ctx.properties.get(Scope::Default, "v").unwrap().to_string(), "other");
    }

    #[actix_web::test]
    async fn routing_on_a_simple_path_reads_the_bytes_without_a_tree() {
        let e = engine(deployment(
            r#"<sequence name="s" xmlns:m0="http://services.samples">
                 <filter source="//m0:symbol" regex="IBM"><property name="symbol" value="ibm"/></filter>
                 <filter xpath="/soapenv:Envelope/soapenv:Body/m0:getQuote" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
                   <property name="quote" value="yes"/>
                 </filter>
                 <filter xpath="//m0:missing"><property name="missing" value="found"/></filter>
               </sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(ctx.properties.get(Scope::Default, "symbol").unwrap().to_string(), "ibm");
        assert_eq!(ctx.properties.get(Scope::Default, "quote").unwrap().to_string(), "yes");
        assert!(ctx.properties.get(Scope::Default, "missing").is_none());
        assert!(ctx.document().is_none(), "no tree was built");
        assert_eq!(body_text(&mut ctx).await, SOAP11_QUOTE, "the bytes go on unchanged");

        // The same rules as the parser for what is read: a DTD or broken XML before the
        // match is the client's fault.
        let dtd = format!("<!DOCTYPE x [<!ENTITY e 'IBM'>]>{SOAP11_QUOTE}");
        let mismatched = SOAP11_QUOTE.replace("<m0:request>", "<m0:request><a></b>");
        for bad in [dtd, mismatched] {
            let err = run(&e, "s", &mut request("text/xml", &bad)).await.unwrap_err();
            assert_eq!(err.code, crate::mediation::error::UNREADABLE_MESSAGE, "{bad}: {err}");
            assert!(err.answer.is_some(), "{bad}: the client's fault");
        }
    }

    #[actix_web::test]
    async fn in_out_drop_respond_and_sequence_keys() {
        let e = engine(deployment(
            r#"<sequence name="helper"><property name="helped" value="yes"/></sequence>
               <sequence name="s">
                 <in><property name="dir" value="in"/><sequence key="helper"/></in>
                 <out><property name="dir" value="out"/></out>
                 <drop/>
                 <property name="after-drop" value="1"/>
               </sequence>
               <sequence name="r"><respond/></sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        assert_eq!(run(&e, "s", &mut ctx).await.unwrap(), Flow::Stop);
        assert_eq!(ctx.properties.get(Scope::Default, "dir").unwrap().to_string(), "in");
        assert_eq!(ctx.properties.get(Scope::Default, "helped").unwrap().to_string(), "yes");
        assert!(ctx.properties.get(Scope::Default, "after-drop").is_none());
        assert_eq!(ctx.take_reply().unwrap().status, StatusCode::ACCEPTED);

        let mut ctx = request("text/xml", SOAP11_QUOTE);
        ctx.direction = Direction::Out;
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(ctx.properties.get(Scope::Default, "dir").unwrap().to_string(), "out");

        let mut ctx = request("text/xml", SOAP11_QUOTE);
        run(&e, "r", &mut ctx).await.unwrap();
        let reply = ctx.take_reply().unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body.into_bytes(1 << 20).await.unwrap(), SOAP11_QUOTE.as_bytes());
    }

    #[actix_web::test]
    async fn makefault_builds_a_fault_that_send_returns() {
        let e = engine(deployment(
            r#"<sequence name="s">
                 <makefault version="soap12" response="true">
                   <code xmlns:tns="http://www.w3.org/2003/05/soap-envelope" value="tns:Receiver"/>
                   <reason expression="get-property('why')"/>
                 </makefault>
                 <send/>
               </sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        ctx.properties.set(Scope::Default, "why", crate::message::Value::String("it <broke>".into()));
        run(&e, "s", &mut ctx).await.unwrap();
        let reply = ctx.take_reply().unwrap();
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = String::from_utf8(reply.body.into_bytes(1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(text.contains("soapenv:Receiver") && text.contains("it &lt;broke&gt;") && text.contains("2003/05/soap-envelope"), "{text}");
        assert!(load_errors(r#"<sequence name="s"><makefault><code xmlns:x="urn:x" value="x:Server"/><reason value="r"/></makefault></sequence>"#)
            .contains("not to a SOAP envelope namespace"));
    }

    #[actix_web::test]
    async fn on_error_catches_errors_of_its_sequence() {
        let e = engine(deployment(
            r#"<sequence name="handler"><property name="handled" expression="get-property('ERROR_MESSAGE')"/><drop/></sequence>
               <sequence name="s" onError="handler"><property name="n" value="x" type="INTEGER"/><property name="not-reached" value="1"/></sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        assert_eq!(run(&e, "s", &mut ctx).await.unwrap(), Flow::Stop);
        assert!(ctx.properties.get(Scope::Default, "handled").unwrap().to_string().contains("INTEGER"));
        assert!(ctx.properties.get(Scope::Default, "not-reached").is_none());
        assert_eq!(ctx.take_reply().unwrap().status, StatusCode::ACCEPTED);
    }

    async fn body_text(ctx: &mut crate::message::MessageContext) -> String {
        ctx.message_text(1 << 20).await.unwrap()
    }

    #[actix_web::test]
    async fn payload_factory_rewrites_the_body_with_escaped_arguments() {
        let e = engine(deployment(
            r#"<sequence name="s" xmlns:m0="http://services.samples">
                 <payloadFactory>
                   <format><m:checkPrice xmlns:m="urn:prices"><m:code>$1</m:code><m:note>$2 costs $$</m:note></m:checkPrice></format>
                   <args><arg expression="//m0:symbol"/><arg expression="get-property('evil')"/></args>
                 </payloadFactory>
               </sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        ctx.properties.set(Scope::Default, "evil", crate::message::Value::String("<x/>&amp;".into()));
        run(&e, "s", &mut ctx).await.unwrap();
        let text = body_text(&mut ctx).await;
        assert!(text.contains("<soapenv:Body><m:checkPrice xmlns:m=\"urn:prices\"><m:code>IBM</m:code>"), "{text}");
        assert!(text.contains("&lt;x/>&amp;amp; costs $$"), "message data stays text: {text}");
        assert!(!text.contains("getQuote"), "{text}");
        assert!(load_errors(r#"<sequence name="s"><payloadFactory><format><a>$2</a></format><args><arg value="1"/></args></payloadFactory></sequence>"#)
            .contains("uses $2 but only 1 <arg>"));

        let mut ctx = request("application/xml", "<getQuote><symbol>SUN</symbol></getQuote>");
        let e = engine(deployment(r#"<sequence name="s"><payloadFactory><format><q xmlns="urn:q"><s>$1</s></q></format><args><arg expression="//symbol"/></args></payloadFactory></sequence>"#));
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(body_text(&mut ctx).await, "<q xmlns=\"urn:q\"><s>SUN</s></q>");
    }

    #[actix_web::test]
    async fn header_sets_addressing_soap_and_transport_headers() {
        let e = engine(deployment(
            r#"<sequence name="s" xmlns:t="urn:trace">
                 <header name="To" value="http://localhost:9000/services/X"/>
                 <header name="t:Trace" expression="get-property('MESSAGE_FORMAT')"/>
                 <header name="X-Out" value="1" scope="transport"/>
                 <header name="Content-Type" scope="transport" action="remove"/>
               </sequence>
               <sequence name="r" xmlns:t="urn:trace"><header name="t:Trace" action="remove"/></sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(ctx.to.as_deref(), Some("http://localhost:9000/services/X"));
        assert_eq!(ctx.headers.get("x-out").unwrap(), "1");
        assert!(ctx.headers.get("content-type").is_none());
        let text = body_text(&mut ctx).await;
        assert!(text.contains("<soapenv:Header><t:Trace xmlns:t=\"urn:trace\">soap11</t:Trace></soapenv:Header>"), "{text}");
        run(&e, "r", &mut ctx).await.unwrap();
        assert!(!body_text(&mut ctx).await.contains("Trace"));
        assert!(load_errors(r#"<sequence name="s"><header name="Trace" value="1"/></sequence>"#).contains("needs a namespace prefix"));
    }

    #[actix_web::test]
    async fn property_om_and_dynamic_sequence_keys() {
        let e = engine(deployment(
            r#"<sequence name="s" xmlns:m0="http://services.samples">
                 <property name="req" expression="//m0:request" type="OM"/>
                 <property name="which" value="target"/>
                 <sequence key="{get-property('which')}"/>
               </sequence>
               <sequence name="target"><property name="reached" value="yes"/></sequence>
               <sequence name="self"><sequence key="{'self'}"/></sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        run(&e, "s", &mut ctx).await.unwrap();
        let om = ctx.properties.get(Scope::Default, "req").unwrap().to_string();
        assert_eq!(om, "<m0:request xmlns:m0=\"http://services.samples\"><m0:symbol>IBM</m0:symbol></m0:request>");
        assert_eq!(ctx.properties.get(Scope::Default, "reached").unwrap().to_string(), "yes");
        let err = run(&e, "self", &mut request("text/xml", SOAP11_QUOTE)).await.unwrap_err();
        assert!(err.message.contains("nest deeper"), "{err}");
    }

    #[actix_web::test]
    async fn log_levels_do_not_disturb_the_message() {
        let e = engine(deployment(
            r#"<sequence name="s" xmlns:m0="http://services.samples">
                 <log level="full" separator="\n" category="DEBUG"><property name="symbol" expression="//m0:symbol"/></log>
                 <log level="headers"/><log/><log level="custom" category="WARN"><property name="x" value="1"/></log>
               </sequence>"#,
        ));
        let mut ctx = request("text/xml", SOAP11_QUOTE);
        run(&e, "s", &mut ctx).await.unwrap();
        assert_eq!(body_text(&mut ctx).await, SOAP11_QUOTE, "reading for a log leaves the message as it was");
        assert!(load_errors(r#"<sequence name="s"><log level="loud"/></sequence>"#).contains("level 'loud'"));
    }
}
