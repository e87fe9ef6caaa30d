<?xml version="1.0" encoding="UTF-8"?>
<!-- ux (issue 13.2): how an RSS or Atom feed looks when someone opens it in a browser.
     Feed readers never use this. Plain English, the same look as the site. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
<xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

<xsl:template match="/">
  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
  <html lang="en-GB">
  <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title><xsl:value-of select="$title"/> (news feed)</title>
    <style>
      body { font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; line-height: 1.5; margin: 0; font-size: 1.1875rem; }
      header { background: #1d4f91; color: #fff; padding: 1rem; }
      header a { color: #fff; font-weight: bold; }
      main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
      a { color: #1d4f91; }
      a:focus { outline: 3px solid #ffdd00; box-shadow: 0 0 0 5px #0b0c0c; }
      .about { border-left: 5px solid #1d4f91; background: #f3f2f1; padding: .5rem 1rem; }
      .address { display: block; font-family: monospace; font-size: 1rem; overflow-wrap: anywhere; background: #fff; padding: .25rem .5rem; border: 1px solid #b1b4b6; }
      ol { list-style: none; padding: 0; }
      li { border-bottom: 1px solid #b1b4b6; padding: .75rem 0; overflow-wrap: anywhere; }
      .when { color: #3d4448; font-size: 1rem; }
    </style>
  </head>
  <body>
    <header><a href="/">Local Offer news</a></header>
    <main>
      <h1><xsl:value-of select="$title"/></h1>
      <div class="about">
        <p><strong>This is a news feed.</strong> Copy its address into a feed reader or app, and it will tell you each time something here changes.</p>
        <p>Feed address: <code class="address"><xsl:value-of select="$self"/></code></p>
        <p><a href="/feeds">What is a news feed, and how do I choose one?</a></p>
      </div>
      <h2>Latest changes</h2>
      <xsl:choose>
        <xsl:when test="/rss/channel/item | /atom:feed/atom:entry">
          <ol>
            <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
          </ol>
        </xsl:when>
        <xsl:otherwise><p>No changes yet.</p></xsl:otherwise>
      </xsl:choose>
    </main>
  </body>
  </html>
</xsl:template>

<xsl:template match="item">
  <li>
    <h3><a href="{link}"><xsl:value-of select="title"/></a></h3>
    <p class="when"><xsl:value-of select="pubDate"/></p>
    <!-- The description is HTML-escaped text: shown as text, never run. -->
    <p><xsl:value-of select="description"/></p>
  </li>
</xsl:template>

<xsl:template match="atom:entry">
  <li>
    <h3><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h3>
    <p class="when"><xsl:value-of select="substring(atom:published, 1, 10)"/></p>
    <p><xsl:value-of select="atom:summary"/></p>
  </li>
</xsl:template>
</xsl:stylesheet>
