/**
 * A small hand-written document in the shape of Canonical's current CVE OVAL
 * (`com.ubuntu.<codename>.cve.oval.xml`): one inventory definition, then CVE definitions whose
 * criteria carry one dpkginfo test per source package, its object naming the binaries through a
 * constant variable, the tracker status worded in the criterion comment. Package states and
 * versions are illustrative, chosen to cover every wording; only the structure is Canonical's.
 */
export const UBUNTU_MODERN_SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:ind-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" xmlns:unix-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#unix" xmlns:linux-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux">
  <generator>
    <oval:product_name>Canonical CVE OVAL Generator</oval:product_name>
    <oval:product_version>3</oval:product_version>
    <oval:schema_version>5.11.1</oval:schema_version>
    <oval:timestamp>2024-01-10T12:00:00</oval:timestamp>
  </generator>
  <definitions>
    <definition class="inventory" id="oval:com.ubuntu.jammy:def:100" version="1">
      <metadata>
        <title>Check that Ubuntu 22.04 LTS (jammy) is installed.</title>
        <description></description>
      </metadata>
      <criteria>
        <criterion test_ref="oval:com.ubuntu.jammy:tst:100" comment="The host is part of the unix family." />
      </criteria>
    </definition>
    <definition class="vulnerability" id="oval:com.ubuntu.jammy:def:202338545000000" version="1">
      <metadata>
        <title>CVE-2023-38545 on Ubuntu 22.04 LTS (jammy) - high</title>
        <description>This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake.</description>
        <affected family="unix">
          <platform>Ubuntu 22.04 LTS</platform>
        </affected>
        <reference source="CVE" ref_id="CVE-2023-38545" ref_url="https://ubuntu.com/security/CVE-2023-38545" />
        <advisory>
          <severity>High</severity>
          <rights>Copyright (C) 2023 Canonical Ltd.</rights>
          <public_date>2023-10-18 04:15:00 UTC</public_date>
          <bug>https://curl.se/docs/CVE-2023-38545.html</bug>
          <cve href="https://ubuntu.com/security/CVE-2023-38545" priority="high" public="20231018" cvss_score="9.8" cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" usns="6429-1">CVE-2023-38545</cve>
        </advisory>
      </metadata>
      <criteria>
        <extend_definition definition_ref="oval:com.ubuntu.jammy:def:100" comment="Ubuntu 22.04 LTS (jammy) is installed." applicability_check="true" />
        <criteria operator="OR">
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202338545000000" comment="curl package in jammy was vulnerable but has been fixed (note: '7.81.0-1ubuntu1.14')." />
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202338545000010" comment="libcurl3-nss package in jammy is affected. An update containing the fix has been completed and is pending publication (note: '7.81.0-1ubuntu1.15')." />
        </criteria>
      </criteria>
    </definition>
    <definition class="vulnerability" id="oval:com.ubuntu.jammy:def:202400010000000" version="1">
      <metadata>
        <title>CVE-2024-0001 on Ubuntu 22.04 LTS (jammy) - untriaged</title>
        <description>Illustrative entry covering the remaining tracker statuses.</description>
        <affected family="unix">
          <platform>Ubuntu 22.04 LTS</platform>
        </affected>
        <reference source="CVE" ref_id="CVE-2024-0001" ref_url="https://ubuntu.com/security/CVE-2024-0001" />
        <advisory>
          <severity>Untriaged</severity>
          <public_date>2024-01-02</public_date>
          <cve href="https://ubuntu.com/security/CVE-2024-0001" priority="untriaged" public="20240102">CVE-2024-0001</cve>
        </advisory>
      </metadata>
      <criteria>
        <extend_definition definition_ref="oval:com.ubuntu.jammy:def:100" comment="Ubuntu 22.04 LTS (jammy) is installed." applicability_check="true" />
        <criteria operator="OR">
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000000" comment="libxml2 package in jammy is affected and needs fixing." />
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000010" comment="openssl package in jammy is affected, but a decision has been made to defer addressing it (note: '2024-02-01')." />
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000020" comment="gcc-snapshot: while related to the CVE in some way, a decision has been made to ignore this issue." />
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000030" comment="zlib package in jammy is affected and may need fixing." />
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000040" comment="firefox package in jammy was vulnerable and has been fixed, but no release version available for it." />
          <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000050" comment="Affected binaries are installed." />
          <criteria operator="AND">
            <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000060" comment="Is kernel linux running" />
            <criterion test_ref="oval:com.ubuntu.jammy:tst:202400010000070" comment="kernel version comparison" />
          </criteria>
        </criteria>
      </criteria>
    </definition>
  </definitions>
  <tests>
    <ind-def:family_test id="oval:com.ubuntu.jammy:tst:100" check="at least one" check_existence="at_least_one_exists" version="1" comment="Is the host part of the unix family?">
      <ind-def:object object_ref="oval:com.ubuntu.jammy:obj:100" />
      <ind-def:state state_ref="oval:com.ubuntu.jammy:ste:100" />
    </ind-def:family_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202338545000000" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'curl' package exist and is the version less than '7.81.0-1ubuntu1.14'?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202338545000000" />
      <linux-def:state state_ref="oval:com.ubuntu.jammy:ste:202338545000000" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202338545000010" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'libcurl3-nss' package exist and is the version less than '7.81.0-1ubuntu1.15'?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202338545000010" />
      <linux-def:state state_ref="oval:com.ubuntu.jammy:ste:202338545000010" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202400010000000" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'libxml2' package exist?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000000" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202400010000010" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'openssl' package exist?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000010" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202400010000020" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'gcc-snapshot' package exist?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000020" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202400010000030" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'zlib' package exist?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000030" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202400010000040" version="1" check_existence="at_least_one_exists" check="at least one" comment="Does the 'firefox' package exist?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000040" />
    </linux-def:dpkginfo_test>
    <linux-def:dpkginfo_test id="oval:com.ubuntu.jammy:tst:202400010000050" version="1" check_existence="at_least_one_exists" check="at least one" comment="Are the affected binaries installed?">
      <linux-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000050" />
    </linux-def:dpkginfo_test>
    <unix-def:uname_test id="oval:com.ubuntu.jammy:tst:202400010000060" version="1" check="at least one" comment="Is kernel linux running?">
      <unix-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000060" />
      <unix-def:state state_ref="oval:com.ubuntu.jammy:ste:202400010000060" />
    </unix-def:uname_test>
    <ind-def:variable_test id="oval:com.ubuntu.jammy:tst:202400010000070" version="1" check="all" check_existence="all_exist" comment="kernel version comparison">
      <ind-def:object object_ref="oval:com.ubuntu.jammy:obj:202400010000070" />
      <ind-def:state state_ref="oval:com.ubuntu.jammy:ste:202400010000070" />
    </ind-def:variable_test>
  </tests>
  <objects>
    <ind-def:family_object id="oval:com.ubuntu.jammy:obj:100" version="1" comment="The singleton family object." />
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202338545000000" version="1" comment="The 'curl' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202338545000000" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202338545000010" version="1" comment="The 'libcurl3-nss' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202338545000010" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202400010000000" version="1" comment="The 'libxml2' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202400010000000" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202400010000010" version="1" comment="The 'openssl' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202400010000010" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202400010000020" version="1" comment="The 'gcc-snapshot' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202400010000020" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202400010000030" version="1" comment="The 'zlib' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202400010000030" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202400010000040" version="1" comment="The 'firefox' package binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202400010000040" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <linux-def:dpkginfo_object id="oval:com.ubuntu.jammy:obj:202400010000050" version="1" comment="Affected binaries.">
      <linux-def:name var_ref="oval:com.ubuntu.jammy:var:202400010000050" var_check="at least one" />
    </linux-def:dpkginfo_object>
    <unix-def:uname_object id="oval:com.ubuntu.jammy:obj:202400010000060" version="1" />
    <ind-def:variable_object id="oval:com.ubuntu.jammy:obj:202400010000070" version="1">
      <ind-def:var_ref>oval:com.ubuntu.jammy:var:202400010000070</ind-def:var_ref>
    </ind-def:variable_object>
  </objects>
  <states>
    <ind-def:family_state id="oval:com.ubuntu.jammy:ste:100" version="1" comment="The singleton family object.">
      <ind-def:family>unix</ind-def:family>
    </ind-def:family_state>
    <linux-def:dpkginfo_state id="oval:com.ubuntu.jammy:ste:202338545000000" version="1" comment="The package version is less than '7.81.0-1ubuntu1.14'.">
      <linux-def:evr datatype="debian_evr_string" operation="less than">0:7.81.0-1ubuntu1.14</linux-def:evr>
    </linux-def:dpkginfo_state>
    <linux-def:dpkginfo_state id="oval:com.ubuntu.jammy:ste:202338545000010" version="1" comment="The package version is less than '7.81.0-1ubuntu1.15'.">
      <linux-def:evr datatype="debian_evr_string" operation="less than">0:7.81.0-1ubuntu1.15</linux-def:evr>
    </linux-def:dpkginfo_state>
    <unix-def:uname_state id="oval:com.ubuntu.jammy:ste:202400010000060" version="1">
      <unix-def:os_release operation="pattern match">5.15.0-\\d+(-generic|-lowlatency)</unix-def:os_release>
    </unix-def:uname_state>
    <ind-def:variable_state id="oval:com.ubuntu.jammy:ste:202400010000070" version="1">
      <ind-def:value operation="less than" datatype="debian_evr_string">0:5.15.0-100</ind-def:value>
    </ind-def:variable_state>
  </states>
  <variables>
    <constant_variable id="oval:com.ubuntu.jammy:var:202338545000000" version="1" datatype="string" comment="'curl' package binaries">
      <value>curl</value>
      <value>libcurl3-gnutls</value>
      <value>libcurl4</value>
      <value>libcurl4-openssl-dev</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202338545000010" version="1" datatype="string" comment="'libcurl3-nss' package binaries">
      <value>libcurl3-nss</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000000" version="1" datatype="string" comment="'libxml2' package binaries">
      <value>libxml2</value>
      <value>libxml2-utils</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000010" version="1" datatype="string" comment="'openssl' package binaries">
      <value>libssl3</value>
      <value>openssl</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000020" version="1" datatype="string" comment="'gcc-snapshot' package binaries">
      <value>gcc-snapshot</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000030" version="1" datatype="string" comment="'zlib' package binaries">
      <value>zlib1g</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000040" version="1" datatype="string" comment="'firefox' package binaries">
      <value>firefox</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000050" version="1" datatype="string" comment="Affected binaries">
      <value>libfoo1</value>
      <value>foo-tools</value>
    </constant_variable>
    <constant_variable id="oval:com.ubuntu.jammy:var:202400010000070" version="1" datatype="debian_evr_string" comment="kernel version">
      <value>0:5.15.0-100</value>
    </constant_variable>
  </variables>
</oval_definitions>
`;
