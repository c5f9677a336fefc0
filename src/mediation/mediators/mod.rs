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
}
