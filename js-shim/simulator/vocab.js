'use strict';
// Word lists and text templates for generated records. Shapes follow the real responses in
// tests/fixtures/real (CDATA text, HTML in KB text, multi-line tab-separated RESULTS).

const OS = [
  'Windows Server 2019 Datacenter 64 bit Edition Version 1809 Build 17763.5329',
  'Windows 10 Enterprise 64 bit Edition Version 22H2',
  'Windows 11 Pro 64 bit Edition Version 23H2',
  'Windows Server 2016 Standard 64 bit Edition Version 1607',
  'Windows Server 2012 R2 Standard 64 bit Edition',
  'Red Hat Enterprise Linux 8.9',
  'Red Hat Enterprise Linux Server 7.9',
  'Ubuntu 22.04.4 LTS',
  'Ubuntu / Tiny Core Linux / Linux 3.x',
  'Debian GNU/Linux 12',
  'CentOS Linux 7.9.2009',
  'Amazon Linux 2',
  'Linux 3.13',
  'SUSE Linux Enterprise Server 15 SP5',
  'Cisco IOS XE 17.3.4a',
  'Cisco Adaptive Security Appliance 9.16',
  'VMware ESXi 7.0.3 build-21930508',
  'macOS 14.3 Sonoma',
  'FreeBSD 13.2-RELEASE',
  'HP iLO 5 2.78',
  'Windows Server 2022 Datacenter \u2013 64 bit', // en dash: multi-byte UTF-8
];

const DOMAINS = ['corp.example.com', 'dmz.example.net', 'lab.example.org', 'compute-1.amazonaws.com',
  'eu-west-1.compute.internal', 'prod.internal', 'b\u00fcro.example.de'];
const HOST_WORDS = ['web', 'db', 'app', 'mail', 'dc', 'files', 'vpn', 'jump', 'build', 'cache', 'proxy',
  'print', 'k8s-node', 'esx', 'fw', 'sql', 'erp', 'hr', 'crm', 'wks'];

const TAGS = [
  [7718831, 'Cloud Agent'], [7718832, 'Internet Facing Assets'], [7718833, 'Windows Servers'],
  [7718834, 'Linux Servers'], [7718835, 'Business Units'], [7718836, 'Finance & Accounting'],
  [7718837, 'PCI <scope>'], [7718838, 'Production'], [7718839, 'Development'], [7718840, 'DMZ'],
  [7718841, 'Critical Assets'], [7718842, 'EMEA'], [7718843, 'AMER'], [7718844, 'APAC'],
  [7718845, 'Unmanaged'], [7718846, 'Asset Criticality: HIGH'],
];

const OWNERS = ['admin', 'secops', 'j.doe', 'netops', 'it-infra'];

const CATEGORIES = ['Windows', 'Local', 'CGI', 'Cisco', 'Web server', 'Information gathering', 'Security Policy',
  'Database', 'Ubuntu', 'RedHat', 'Debian', 'SUSE', 'Amazon Linux', 'General remote services', 'Office Application',
  'TCP/IP', 'SMB / NETBIOS', 'Web Application', 'Mail services', 'Hardware', 'VMware', 'Firewall', 'DNS and BIND',
  'E-Commerce', 'Backdoors and trojan horses'];

const PRODUCTS = [
  ['microsoft', 'windows', 'Microsoft Windows'], ['microsoft', 'office', 'Microsoft Office'],
  ['microsoft', 'exchange_server', 'Microsoft Exchange Server'], ['openbsd', 'openssh', 'OpenSSH'],
  ['apache', 'http_server', 'Apache HTTP Server'], ['apache', 'tomcat', 'Apache Tomcat'],
  ['oracle', 'jre', 'Oracle Java SE'], ['oracle', 'mysql', 'Oracle MySQL'], ['cisco', 'ios_xe', 'Cisco IOS XE'],
  ['openssl', 'openssl', 'OpenSSL'], ['vmware', 'esxi', 'VMware ESXi'], ['google', 'chrome', 'Google Chrome'],
  ['mozilla', 'firefox', 'Mozilla Firefox'], ['adobe', 'acrobat_reader', 'Adobe Acrobat Reader'],
  ['linux', 'linux_kernel', 'Linux Kernel'], ['isc', 'bind', 'ISC BIND'], ['php', 'php', 'PHP'],
  ['nginx', 'nginx', 'nginx'], ['postgresql', 'postgresql', 'PostgreSQL'], ['samba', 'samba', 'Samba'],
];

const ISSUES = [
  'Multiple Security Vulnerabilities', 'Remote Code Execution Vulnerability', 'Security Update for %M %Y',
  'Denial of Service (DoS) Vulnerability', 'Privilege Escalation Vulnerability', 'Information Disclosure Vulnerability',
  'Cross-Site Scripting (XSS) Vulnerability', 'Prior to %V Multiple Vulnerabilities', 'Security Bypass Vulnerability',
  'Critical Patch Update - %M %Y', 'Command Injection Vulnerability', 'Out-of-Bounds Write & Read Vulnerabilities',
];

const IG_TITLES = ['DNS Host Name', 'Operating System Detected', 'Host Scan Time - Scanner', 'Open TCP Services List',
  'Traceroute', 'Scan Activity per Port', 'Host Names Found', 'Firewall Detected', 'SSL Certificate - Information',
  'NetBIOS Host Name', 'Installed Applications Enumerated From Windows Installer', 'Target Network Information'];

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

const THREAT_INTEL = [[1, 'Zero_Day'], [2, 'Exploit_Public'], [3, 'Active_Attacks'], [4, 'High_Lateral_Movement'],
  [5, 'Easy_Exploit'], [6, 'High_Data_Loss'], [7, 'Denial_of_Service'], [8, 'No_Patch'], [9, 'Malware'],
  [11, 'Wormable'], [13, 'Privilege_Escalation'], [14, 'Unauthenticated_Exploitation'],
  [15, 'Remote_Code_Execution'], [17, 'Patch_Available'], [18, 'Cisa_Known_Exploited_Vulns']];

const AUTH_TYPES = ['Windows', 'Unix', 'SNMP', 'Oracle', 'VMware', 'HTTP', 'WEBLOGIC_VULN'];

const PORTS = [[22, 'tcp'], [443, 'tcp'], [80, 'tcp'], [445, 'tcp'], [3389, 'tcp'], [53, 'udp'], [161, 'udp'],
  [8443, 'tcp'], [3306, 'tcp'], [1433, 'tcp'], [25, 'tcp'], [123, 'udp'], [135, 'tcp'], [5432, 'tcp']];

const DIAG_LEADS = [
  'A vulnerability in %P could allow an unauthenticated, remote attacker to execute arbitrary code on an affected system.',
  '%P is prone to multiple security vulnerabilities because it fails to properly sanitize user-supplied input.',
  'The version of %P installed on the remote host is prior to %V. It is, therefore, affected by multiple vulnerabilities.',
  'An issue was discovered in %P. A specially crafted request can trigger an out-of-bounds write.',
  'Several different techniques can be used to identify %P running on a host.',
];

const RESULT_TEMPLATES = [
  // tab-separated table, like QID 38739 in the fixture
  (r, c) => 'Type\tName\ncipher\t3des-cbc\ncipher\tblowfish-cbc\nmac\thmac-md5' + (r.chance(0.5) ? '\nkex\tdiffie-hellman-group1-sha1' : ''),
  (r, c) => `Vulnerable ${c.product}-${r.int(1, 9)}.${r.int(0, 20)} detected on port ${c.port} over ${c.proto.toUpperCase()}.`,
  (r, c) => `TLSv1.${r.int(0, 1)} is supported`,
  (r, c) => 'Key\tValue\tRegistry Path\n' +
    `CurrentBuild\t${r.int(10000, 22631)}\tHKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\n` +
    `UBR\t${r.int(100, 5000)}\tHKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion`,
  // HTTP exchange with entities kept literal inside CDATA (as in the real fixture)
  (r, c) => `X-Content-Type-Options HTTP Header missing on port ${c.port}.\n\nGET / HTTP/1.0\nHost: ${c.fqdn}\n\n\n\nHTTP/1.1 200 OK\n` +
    'Content-Type: text/html\nReport-To: {&quot;endpoints&quot;:[{&quot;url&quot;:&quot;https:\\/\\/a.example\\/r&quot;}],&quot;max_age&quot;:604800}\nServer: Apache',
  (r, c) => `%windir%\\System32\\ntoskrnl.exe  Version is  10.0.${r.int(14393, 22631)}.${r.int(1, 3000)}\n` +
    `%windir%\\System32\\win32k.sys  Version is  10.0.${r.int(14393, 22631)}.${r.int(1, 3000)}`,
  (r, c) => `--- IPv4 ---\n;; -&gt;&gt;HEADER&lt;&lt;- opcode: QUERY, rcode: NOERROR, id: ${r.int(1, 65535)}\n` +
    ';; flags: qr rd ra ; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0\n;; QUESTION SECTION:\n' +
    `;; ${c.fqdn}. IN SOA\n\n;; Query time: ${r.int(1, 90)} msec`,
  // contains the CDATA terminator: must be split when rendered
  (r, c) => `Array output: data[idx[0]]>0 matched\nbuffer[[1]]> overflow marker at offset ${r.int(1, 9999)}`,
  (r, c) => `Installed package\tRequired version\n${c.product}-libs-${r.int(1, 3)}.${r.int(0, 9)}\t${c.product}-libs-${r.int(4, 6)}.0`,
  (r, c) => `# Caf\u00e9 r\u00e9sultat: ${c.product} \u2013 \u00e9tat vuln\u00e9rable (UTF-8 text)`,
];

// weights of RESULT_TEMPLATES (by index): the CDATA-terminator and UTF-8 ones are rare, as in real data
const RESULT_WEIGHTS = [[14, 0], [18, 1], [16, 2], [12, 3], [8, 4], [12, 5], [8, 6], [1, 7], [8, 8], [3, 9]];

module.exports = {
  RESULT_WEIGHTS, OS, DOMAINS, HOST_WORDS, TAGS, OWNERS, CATEGORIES, PRODUCTS, ISSUES, IG_TITLES, MONTHS, THREAT_INTEL,
  AUTH_TYPES, PORTS, DIAG_LEADS, RESULT_TEMPLATES,
};
