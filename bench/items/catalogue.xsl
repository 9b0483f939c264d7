<?xml version="1.0" encoding="UTF-8"?>
<!--
  Peer of the items benchmark: Globe Items export -> catalogue CSV with
  xsltproc (XSLT 1.0). Same columns and mapping as bench/items/gofeed:
  sales items only; description slots 1..4 -> nl, de, fr, en; FreeText 1 ->
  attributes.brand, FreeYesNo 1 -> attributes.webshop; Condition
  A/B/D/E/F -> active/blocked/discontinued/inactive/future.

  xsltproc -\-stringparam admin 500 catalogue.xsl items.xml > catalogue.csv

  XSLT 1.0 has no trim: values go through normalize-space, which also
  collapses inner runs of white space (the generated exports have none).
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:param name="admin" select="'500'"/>

  <xsl:template match="/">
    <xsl:text>administration;item_code;description;descriptions.de;descriptions.en;descriptions.fr;descriptions.nl;long_description;group_code;group_description;unit;sales_price;currency;vat_code;gtin;status;attributes.brand;attributes.webshop;updated_at&#10;</xsl:text>
    <!-- Every value is an XPath expression (no result tree fragment built
         inside xsl:variable or xsl:with-param): libxslt appends text output
         in place only while nothing else was written in between; otherwise
         it concatenates with a strlen of all the output so far, which makes
         the transform quadratic. -->
    <xsl:apply-templates select="/eExact/Items/Item[normalize-space(IsSalesItem)='1' or translate(normalize-space(IsSalesItem),'TRUE','true')='true']"/>
  </xsl:template>

  <xsl:template match="Item">
      <xsl:variable name="cond" select="normalize-space(Condition)"/>
      <xsl:variable name="asst" select="Assortment"/>
      <xsl:variable name="gc" select="normalize-space($asst/@code)"/>
      <xsl:variable name="gcode" select="concat($gc, substring(normalize-space($asst/@Code), 1, 1000 * ($gc = '')))"/>
      <xsl:variable name="uu" select="normalize-space(Sales/Unit/@unit)"/>
      <xsl:variable name="yn" select="translate(normalize-space(FreeFields/FreeYesNos/FreeYesNo[normalize-space(@number)='1'][1]),'TRUEFALS','truefals')"/>
      <xsl:call-template name="f"><xsl:with-param name="v" select="$admin"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(@code)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(Description)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(MultiDescriptions/MultiDescription[normalize-space(@number)='2'][normalize-space(.)!=''][last()])"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(MultiDescriptions/MultiDescription[normalize-space(@number)='4'][normalize-space(.)!=''][last()])"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(MultiDescriptions/MultiDescription[normalize-space(@number)='3'][normalize-space(.)!=''][last()])"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(MultiDescriptions/MultiDescription[normalize-space(@number)='1'][normalize-space(.)!=''][last()])"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(LongDescription)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="concat($gcode, substring(normalize-space($asst/@number), 1, 1000 * ($gcode = '')))"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space($asst/Description)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="concat($uu, substring(normalize-space(Sales/Unit/@code), 1, 1000 * ($uu = '')))"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(Sales/Price/Value)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(Sales/Price/Currency/@code)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(Sales/Price/VAT/@code)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(GTIN)"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="concat(substring('active', 1, 6 * ($cond = 'A' or $cond = '')), substring('blocked', 1, 7 * ($cond = 'B')), substring('discontinued', 1, 12 * ($cond = 'D')), substring('future', 1, 6 * ($cond = 'F')), substring('inactive', 1, 8 * not($cond = 'A' or $cond = '' or $cond = 'B' or $cond = 'D' or $cond = 'F')))"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(FreeFields/FreeTexts/FreeText[normalize-space(@number)='1'][1])"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="concat(substring('1', 1, $yn = '1' or $yn = 'true'), substring('0', 1, $yn = '0' or $yn = 'false'))"/></xsl:call-template>
      <xsl:call-template name="f"><xsl:with-param name="v" select="normalize-space(Modified)"/><xsl:with-param name="last" select="true()"/></xsl:call-template>
  </xsl:template>

  <!-- One CSV field, quoted as RFC 4180 needs, then ';' or a line end. -->
  <xsl:template name="f">
    <xsl:param name="v"/>
    <xsl:param name="last" select="false()"/>
    <xsl:choose>
      <xsl:when test="contains($v,';') or contains($v,'&quot;') or contains($v,'&#10;') or contains($v,'&#13;')">
        <xsl:text>"</xsl:text>
        <xsl:call-template name="dq"><xsl:with-param name="s" select="$v"/></xsl:call-template>
        <xsl:text>"</xsl:text>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
    </xsl:choose>
    <xsl:choose>
      <xsl:when test="$last"><xsl:text>&#10;</xsl:text></xsl:when>
      <xsl:otherwise><xsl:text>;</xsl:text></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Doubles every '"'. -->
  <xsl:template name="dq">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="contains($s,'&quot;')">
        <xsl:value-of select="substring-before($s,'&quot;')"/>
        <xsl:text>""</xsl:text>
        <xsl:call-template name="dq"><xsl:with-param name="s" select="substring-after($s,'&quot;')"/></xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
