//! A small HTML writer whose only way to put text into the page escapes it. Project names,
//! versions, log lines and paths come from sdists and indexes nobody here controls: a log
//! line `</pre><script>` must stay text. Tag and attribute names are `&'static str`, so only
//! this program's code can name them.

use std::fmt::Write;

/// Text for an element's content or a quoted attribute value: `& < > " '` become character
/// references, and control characters other than tab and newline (which HTML forbids or
/// turns into something else) become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The page being written.
#[derive(Default)]
pub(crate) struct Html {
    out: String,
}

impl Html {
    /// `<tag a="v" ...>`, values escaped.
    pub(crate) fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.out, " {name}=\"{}\"", escape(value));
        }
        self.out.push('>');
        self
    }

    pub(crate) fn close(&mut self, tag: &'static str) -> &mut Self {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// `<tag .../>`: an SVG shape, or `<meta>`-like HTML void elements (as `<tag ...>`).
    pub(crate) fn empty(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.open(tag, attrs);
        if !matches!(tag, "meta" | "link" | "br") {
            self.out.insert(self.out.len() - 1, '/');
        }
        self
    }

    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text));
        self
    }

    /// `<tag attrs>text</tag>`.
    pub(crate) fn element(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// Markup this program wrote itself (the doctype), never outside text.
    pub(crate) fn markup(&mut self, markup: &'static str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attribute_values_are_escaped() {
        let mut html = Html::default();
        html.element("p", &[("title", "a\"b' <c>")], "</p><script>&\u{0}");
        assert_eq!(
            html.finish(),
            "<p title=\"a&quot;b&#39; &lt;c&gt;\">&lt;/p&gt;&lt;script&gt;&amp;\u{fffd}</p>"
        );
    }

    #[test]
    fn svg_shapes_close_themselves_and_html_void_elements_do_not() {
        let mut html = Html::default();
        html.empty("rect", &[("x", "1")])
            .empty("meta", &[("charset", "utf-8")]);
        assert_eq!(html.finish(), "<rect x=\"1\"/><meta charset=\"utf-8\">");
    }
}
