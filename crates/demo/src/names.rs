//! Word pools for people, companies and the text reps write, in Chinese and English.
//!
//! Company names come from a bijection over the pools, so the first N companies of a language
//! never repeat a name (duplicate detection compares normalised company names).

use rand::Rng;
use rand::rngs::SmallRng;

use salesflow_domain::records::{Channel, PreferredChannel};

/// The language a deal, its account and its people are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn of_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") { Lang::Zh } else { Lang::En }
    }
}

pub fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// One of a list of literal words.
pub fn one(rng: &mut SmallRng, items: &[&'static str]) -> &'static str {
    items[rng.gen_range(0..items.len())]
}

/// Picks an index by integer weights.
pub fn weighted(rng: &mut SmallRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

// ---------------------------------------------------------------------------------------------
// Chinese.

/// (city, short code for domains, region shown on the account).
const ZH_CITIES: &[(&str, &str, &str)] = &[
    ("上海", "sh", "上海市"),
    ("北京", "bj", "北京市"),
    ("深圳", "sz", "广东省深圳市"),
    ("广州", "gz", "广东省广州市"),
    ("杭州", "hz", "浙江省杭州市"),
    ("苏州", "suz", "江苏省苏州市"),
    ("南京", "nj", "江苏省南京市"),
    ("成都", "cd", "四川省成都市"),
    ("武汉", "wh", "湖北省武汉市"),
    ("西安", "xa", "陕西省西安市"),
    ("重庆", "cq", "重庆市"),
    ("天津", "tj", "天津市"),
    ("宁波", "nb", "浙江省宁波市"),
    ("厦门", "xm", "福建省厦门市"),
    ("青岛", "qd", "山东省青岛市"),
    ("长沙", "cs", "湖南省长沙市"),
    ("合肥", "hf", "安徽省合肥市"),
    ("东莞", "dg", "广东省东莞市"),
    ("佛山", "fs", "广东省佛山市"),
    ("无锡", "wx", "江苏省无锡市"),
    ("郑州", "zz", "河南省郑州市"),
    ("济南", "jn", "山东省济南市"),
    ("大连", "dl", "辽宁省大连市"),
    ("福州", "fz", "福建省福州市"),
];

const ZH_BRAND_1: &[(&str, &str)] = &[
    ("云", "yun"),
    ("星", "xing"),
    ("华", "hua"),
    ("天", "tian"),
    ("中", "zhong"),
    ("盛", "sheng"),
    ("恒", "heng"),
    ("瑞", "rui"),
    ("博", "bo"),
    ("嘉", "jia"),
    ("鼎", "ding"),
    ("宏", "hong"),
    ("新", "xin"),
    ("金", "jin"),
    ("海", "hai"),
    ("锐", "rui"),
    ("卓", "zhuo"),
    ("汇", "hui"),
    ("联", "lian"),
    ("智", "zhi"),
    ("远", "yuan"),
    ("启", "qi"),
    ("明", "ming"),
    ("安", "an"),
    ("泰", "tai"),
    ("鑫", "xin"),
    ("晨", "chen"),
    ("德", "de"),
    ("信", "xin"),
    ("达", "da"),
    ("创", "chuang"),
    ("东", "dong"),
    ("蓝", "lan"),
    ("凯", "kai"),
    ("易", "yi"),
    ("优", "you"),
    ("长", "chang"),
    ("万", "wan"),
    ("鸿", "hong"),
    ("赛", "sai"),
];

const ZH_BRAND_2: &[(&str, &str)] = &[
    ("帆", "fan"),
    ("河", "he"),
    ("达", "da"),
    ("通", "tong"),
    ("信", "xin"),
    ("源", "yuan"),
    ("泰", "tai"),
    ("腾", "teng"),
    ("飞", "fei"),
    ("科", "ke"),
    ("智", "zhi"),
    ("创", "chuang"),
    ("锦", "jin"),
    ("辉", "hui"),
    ("晟", "sheng"),
    ("峰", "feng"),
    ("宇", "yu"),
    ("航", "hang"),
    ("森", "sen"),
    ("恒", "heng"),
    ("顺", "shun"),
    ("丰", "feng"),
    ("光", "guang"),
    ("朗", "lang"),
    ("昊", "hao"),
    ("驰", "chi"),
    ("越", "yue"),
    ("祥", "xiang"),
    ("盈", "ying"),
    ("阳", "yang"),
    ("海", "hai"),
    ("川", "chuan"),
    ("微", "wei"),
    ("拓", "tuo"),
    ("捷", "jie"),
    ("润", "run"),
    ("华", "hua"),
    ("邦", "bang"),
    ("迅", "xun"),
    ("图", "tu"),
];

/// (word in the name, industry shown on the account, domain slug).
const ZH_INDUSTRIES: &[(&str, &str, &str)] = &[
    ("科技", "软件与信息技术服务", "tech"),
    ("智能制造", "智能制造", "mfg"),
    ("物流", "物流与供应链", "logistics"),
    ("医疗器械", "医疗器械", "medical"),
    ("新能源", "新能源", "energy"),
    ("信息技术", "软件与信息技术服务", "it"),
    ("电子商务", "电子商务", "ecom"),
    ("教育科技", "教育", "edu"),
    ("生物医药", "生物医药", "bio"),
    ("环保科技", "节能环保", "eco"),
    ("建设工程", "建筑工程", "build"),
    ("食品", "食品饮料", "food"),
    ("汽车零部件", "汽车制造", "auto"),
    ("精密机械", "机械设备", "machinery"),
    ("数据服务", "大数据与云计算", "data"),
    ("网络科技", "互联网", "net"),
    ("供应链管理", "物流与供应链", "scm"),
    ("光电", "电子元器件", "opto"),
    ("新材料", "新材料", "materials"),
    ("文化传媒", "文化传媒", "media"),
];

const ZH_SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
];

/// Given names as people have them: common two-character names and some single ones.
const ZH_GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("超", "chao"),
    ("婷", "ting"),
    ("建国", "jianguo"),
    ("志强", "zhiqiang"),
    ("晓明", "xiaoming"),
    ("秀英", "xiuying"),
    ("丽娟", "lijuan"),
    ("海燕", "haiyan"),
    ("俊杰", "junjie"),
    ("子轩", "zixuan"),
    ("欣怡", "xinyi"),
    ("浩然", "haoran"),
    ("梓涵", "zihan"),
    ("雨桐", "yutong"),
    ("思远", "siyuan"),
    ("嘉怡", "jiayi"),
    ("文博", "wenbo"),
    ("一鸣", "yiming"),
    ("佳琪", "jiaqi"),
    ("宇航", "yuhang"),
    ("晨曦", "chenxi"),
    ("雅婷", "yating"),
    ("家豪", "jiahao"),
    ("志伟", "zhiwei"),
    ("建华", "jianhua"),
    ("春梅", "chunmei"),
    ("红霞", "hongxia"),
    ("国强", "guoqiang"),
    ("立新", "lixin"),
    ("振宇", "zhenyu"),
    ("晓燕", "xiaoyan"),
    ("明辉", "minghui"),
    ("丽华", "lihua"),
    ("文静", "wenjing"),
    ("海涛", "haitao"),
    ("永刚", "yonggang"),
    ("慧敏", "huimin"),
    ("鹏飞", "pengfei"),
    ("雪梅", "xuemei"),
    ("天翔", "tianxiang"),
    ("若曦", "ruoxi"),
    ("晓东", "xiaodong"),
];

const ZH_TITLES: &[&str] = &[
    "采购经理",
    "IT 总监",
    "总经理",
    "技术负责人",
    "运营总监",
    "财务总监",
    "信息化部主任",
    "销售副总裁",
    "项目经理",
    "行政主管",
    "数字化转型负责人",
    "供应链经理",
    "市场总监",
    "副总经理",
];

// ---------------------------------------------------------------------------------------------
// English.

const EN_BRAND_1: &[&str] = &[
    "North", "Blue", "Silver", "Iron", "Summit", "Bright", "Clear", "Red", "Green", "Oak", "Stone", "Harbor", "River",
    "Maple", "Cedar", "Golden", "Eagle", "Falcon", "Pine", "Lake", "Sun", "Star", "Frost", "High", "Swift", "True",
    "Wild", "West", "East", "South", "Crystal", "Granite", "Copper", "Amber", "Ever", "Fair", "Grand", "Key", "Long",
    "Open", "Prime", "Quick", "Rock", "Sea", "Sky", "Storm", "Tall", "Vista", "White", "Wind",
];

const EN_BRAND_2: &[&str] = &[
    "wind", "field", "bridge", "stone", "gate", "point", "view", "ridge", "brook", "wood", "line", "path", "port",
    "water", "crest", "haven", "light", "mark", "peak", "shore", "side", "vale", "well", "works", "way", "dale",
    "ford", "hill", "land", "mont", "wave", "stream", "rock", "spire", "forge", "cove", "hurst", "moor", "star",
    "tree",
];

const EN_QUALIFIERS: &[&str] = &["", "Global", "Pacific", "Atlantic", "Midwest", "Europe"];

/// (word in the name, industry, slug).
const EN_INDUSTRIES: &[(&str, &str, &str)] = &[
    ("Logistics", "Logistics", "logistics"),
    ("Analytics", "Software", "analytics"),
    ("Robotics", "Industrial automation", "robotics"),
    ("Systems", "IT services", "systems"),
    ("Manufacturing", "Manufacturing", "mfg"),
    ("Health", "Healthcare", "health"),
    ("Energy", "Energy", "energy"),
    ("Foods", "Food and beverage", "foods"),
    ("Software", "Software", "software"),
    ("Consulting", "Professional services", "consulting"),
    ("Retail", "Retail", "retail"),
    ("Biotech", "Life sciences", "bio"),
    ("Networks", "Telecommunications", "networks"),
    ("Materials", "Chemicals and materials", "materials"),
    ("Media", "Media", "media"),
    ("Labs", "Research", "labs"),
    ("Freight", "Logistics", "freight"),
    ("Capital", "Financial services", "capital"),
    ("Medical", "Medical devices", "medical"),
    ("Engineering", "Engineering", "eng"),
];

const EN_SUFFIXES: &[&str] = &["Ltd.", "Inc.", "LLC", "Co.", "Group", "Corp."];

const EN_REGIONS: &[&str] = &[
    "California",
    "New York",
    "Texas",
    "Washington",
    "Illinois",
    "Massachusetts",
    "London",
    "Manchester",
    "Ontario",
    "Singapore",
    "Sydney",
    "Berlin",
    "Amsterdam",
    "Dublin",
];

const EN_FIRST: &[&str] = &[
    "James",
    "Emily",
    "Michael",
    "Sarah",
    "David",
    "Jessica",
    "Daniel",
    "Laura",
    "Robert",
    "Anna",
    "Thomas",
    "Olivia",
    "William",
    "Sophie",
    "Matthew",
    "Emma",
    "Andrew",
    "Grace",
    "Christopher",
    "Hannah",
    "Joseph",
    "Rachel",
    "Ryan",
    "Megan",
    "Kevin",
    "Chloe",
    "Brian",
    "Lucy",
    "Mark",
    "Natalie",
    "Peter",
    "Amelia",
    "George",
    "Isabel",
    "Henry",
    "Claire",
    "Samuel",
    "Victoria",
    "Benjamin",
    "Alice",
    "Nathan",
    "Julia",
    "Oliver",
    "Ella",
    "Lucas",
    "Maria",
    "Ethan",
    "Priya",
    "Raj",
    "Mei",
];

const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Anderson", "Thomas",
    "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Allen", "Young",
    "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Roberts", "Turner",
    "Phillips", "Campbell", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Patel",
    "Nguyen", "Kim", "Chen", "Walsh", "O'Brien",
];

const EN_TITLES: &[&str] = &[
    "Procurement Manager",
    "IT Director",
    "CTO",
    "Head of Operations",
    "CFO",
    "VP Sales",
    "Project Manager",
    "Operations Manager",
    "Head of Digital",
    "Supply Chain Manager",
    "Marketing Director",
    "COO",
    "Office Manager",
    "Engineering Lead",
];

/// (area code, digits follow as NXX-XXXX).
const US_AREAS: &[&str] = &["212", "415", "312", "617", "206", "512", "213", "646", "303", "404"];

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Company {
    /// Full legal name, e.g. 上海云帆科技有限公司.
    pub name: String,
    /// How reps say it in deal titles, e.g. 云帆科技.
    pub short: String,
    pub industry: String,
    pub region: String,
    /// Mail domain under example.com, never a real company's.
    pub domain: String,
}

/// Walks the name space in an order that looks random and never repeats within one cycle.
#[derive(Debug, Clone)]
pub struct NameCycle {
    size: u64,
    step: u64,
    next: u64,
}

impl NameCycle {
    fn new(size: u64, start: u64) -> Self {
        // A step coprime with the size visits every index once per cycle.
        let mut step = (size as f64 * 0.618_033_988_7) as u64 | 1;
        while gcd(step, size) != 1 {
            step += 2;
        }
        NameCycle { size, step, next: start % size }
    }

    fn take(&mut self) -> u64 {
        let i = self.next;
        self.next = (self.next + self.step) % self.size;
        i
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[derive(Debug, Clone)]
pub struct Names {
    zh: NameCycle,
    en: NameCycle,
}

impl Names {
    pub fn new(seed: u64) -> Self {
        let zh_size = (ZH_CITIES.len() * ZH_BRAND_1.len() * ZH_BRAND_2.len() * ZH_INDUSTRIES.len()) as u64;
        let en_size = (EN_BRAND_1.len() * EN_BRAND_2.len() * EN_QUALIFIERS.len() * EN_INDUSTRIES.len()) as u64;
        Names {
            zh: NameCycle::new(zh_size, seed.wrapping_mul(7919)),
            en: NameCycle::new(en_size, seed.wrapping_mul(104_729)),
        }
    }

    pub fn company(&mut self, lang: Lang, rng: &mut SmallRng) -> Company {
        match lang {
            Lang::Zh => {
                let mut i = self.zh.take() as usize;
                let ind = &ZH_INDUSTRIES[i % ZH_INDUSTRIES.len()];
                i /= ZH_INDUSTRIES.len();
                let b2i = i % ZH_BRAND_2.len();
                i /= ZH_BRAND_2.len();
                let b1 = &ZH_BRAND_1[i % ZH_BRAND_1.len()];
                i /= ZH_BRAND_1.len();
                let city = &ZH_CITIES[i % ZH_CITIES.len()];
                let mut b2 = &ZH_BRAND_2[b2i];
                if b2.0 == b1.0 {
                    b2 = &ZH_BRAND_2[(b2i + 1) % ZH_BRAND_2.len()];
                }
                let brand = format!("{}{}", b1.0, b2.0);
                let short = format!("{brand}{}", ind.0);
                let suffix = match rng.gen_range(0..100) {
                    0..=79 => "有限公司",
                    80..=94 => "股份有限公司",
                    _ => "集团有限公司",
                };
                let name = if rng.gen_range(0..100) < 15 {
                    format!("{short}({}){suffix}", city.0)
                } else {
                    format!("{}{short}{suffix}", city.0)
                };
                Company {
                    name,
                    short,
                    industry: ind.1.to_string(),
                    region: city.2.to_string(),
                    domain: format!("{}{}{}-{}.example.com", b1.1, b2.1, ind.2, city.1),
                }
            }
            Lang::En => {
                let mut i = self.en.take() as usize;
                let ind = &EN_INDUSTRIES[i % EN_INDUSTRIES.len()];
                i /= EN_INDUSTRIES.len();
                let q = EN_QUALIFIERS[i % EN_QUALIFIERS.len()];
                i /= EN_QUALIFIERS.len();
                let b2 = EN_BRAND_2[i % EN_BRAND_2.len()];
                i /= EN_BRAND_2.len();
                let b1 = EN_BRAND_1[i % EN_BRAND_1.len()];
                let brand = format!("{b1}{b2}");
                let short = if q.is_empty() { format!("{brand} {}", ind.0) } else { format!("{brand} {q} {}", ind.0) };
                let suffix = pick(rng, EN_SUFFIXES);
                let name = format!("{short} {suffix}");
                let slug = format!("{}{}-{}", brand.to_ascii_lowercase(), q.to_ascii_lowercase(), ind.2);
                Company {
                    name,
                    short: if q.is_empty() { brand.clone() } else { format!("{brand} {q}") },
                    industry: ind.1.to_string(),
                    region: pick(rng, EN_REGIONS).to_string(),
                    domain: format!("{slug}.example.com"),
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    pub wechat_id: Option<String>,
    pub preferred_channel: PreferredChannel,
    pub consent: salesflow_domain::records::Consent,
}

pub fn person(lang: Lang, domain: &str, rng: &mut SmallRng) -> Person {
    use salesflow_domain::records::Consent;
    match lang {
        Lang::Zh => {
            let s = pick(rng, ZH_SURNAMES);
            let (given, given_py) = pick(rng, ZH_GIVEN);
            let name = format!("{}{given}", s.0);
            let email = match rng.gen_range(0..3) {
                0 => format!("{}{given_py}@{domain}", s.1),
                1 => format!("{given_py}.{}@{domain}", s.1),
                _ => format!("{}.{given_py}@{domain}", s.1),
            };
            // Mobile numbers: +86 1[3-9]x xxxx xxxx.
            let prefix = one(
                rng,
                &[
                    "130", "131", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "180",
                    "186", "187", "188", "189", "199",
                ],
            );
            let phone = format!("+86 {prefix} {:04} {:04}", rng.gen_range(0..10_000), rng.gen_range(0..10_000));
            let wechat_id = if rng.gen_bool(0.5) {
                format!("{}{given_py}{}", s.1, rng.gen_range(80..100_000))
            } else {
                let mut id = String::from("wxid_");
                for _ in 0..10 {
                    id.push(*pick(rng, b"abcdefghijkmnpqrstuvwxyz23456789") as char);
                }
                id
            };
            let preferred_channel = [
                PreferredChannel::Wechat,
                PreferredChannel::Phone,
                PreferredChannel::Email,
                PreferredChannel::InPerson,
                PreferredChannel::Sms,
            ][weighted(rng, &[45, 25, 15, 10, 5])];
            let consent = Consent {
                email: rng.gen_bool(0.7),
                sms: rng.gen_bool(0.4),
                phone: rng.gen_bool(0.6),
                wechat: rng.gen_bool(0.75),
            };
            Person {
                name,
                title: pick(rng, ZH_TITLES).to_string(),
                email,
                phone,
                wechat_id: Some(wechat_id),
                preferred_channel,
                consent,
            }
        }
        Lang::En => {
            let first = pick(rng, EN_FIRST);
            let last = pick(rng, EN_LAST);
            let name = format!("{first} {last}");
            let local_last: String =
                last.chars().filter(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
            let email = match rng.gen_range(0..3) {
                0 => format!("{}.{local_last}@{domain}", first.to_ascii_lowercase()),
                1 => format!("{}{local_last}@{domain}", &first[..1].to_ascii_lowercase()),
                _ => format!("{}@{domain}", first.to_ascii_lowercase()),
            };
            let phone =
                format!("+1 {} {} {:04}", pick(rng, US_AREAS), rng.gen_range(201..999), rng.gen_range(0..10_000));
            let preferred_channel =
                [PreferredChannel::Email, PreferredChannel::Phone, PreferredChannel::InPerson, PreferredChannel::Sms]
                    [weighted(rng, &[55, 25, 10, 10])];
            let consent =
                Consent { email: rng.gen_bool(0.75), sms: rng.gen_bool(0.3), phone: rng.gen_bool(0.6), wechat: false };
            Person {
                name,
                title: pick(rng, EN_TITLES).to_string(),
                email,
                phone,
                wechat_id: None,
                preferred_channel,
                consent,
            }
        }
    }
}

/// Lead channels, with trade shows, web forms, referrals and social media the frequent ones.
pub fn channel(rng: &mut SmallRng) -> Channel {
    const W: [u32; 8] = [16, 22, 8, 8, 22, 18, 4, 2]; // In `Channel::ALL` order.
    Channel::ALL[weighted(rng, &W)]
}

pub fn lead_note(lang: Lang, channel: Channel, rng: &mut SmallRng) -> String {
    let zh: &[&str] = match channel {
        Channel::SocialMedia => &["通过公众号文章留言咨询", "在领英/脉脉上主动联系", "看到视频号案例后私信咨询"],
        Channel::TradeShow => {
            &["展会展位交换名片,对产品演示很感兴趣", "行业展会上参加了我们的分享会", "展会现场扫码登记"]
        }
        Channel::Advertising => &["点击搜索广告后留下联系方式", "行业媒体广告带来的咨询"],
        Channel::Telemarketing => &["电话营销首次沟通,愿意进一步了解", "电话回访时表示有需求"],
        Channel::WebsiteForm => &["官网提交试用申请", "官网下载白皮书并留资", "官网在线咨询转入"],
        Channel::Referral => &["老客户推荐", "合作伙伴转介绍", "朋友介绍认识的决策人"],
        Channel::Import => &["历史客户名单导入", "市场活动名单导入"],
        Channel::Other => &["客户主动来电", "其他渠道"],
    };
    let en: &[&str] = match channel {
        Channel::SocialMedia => &["Replied to our LinkedIn post", "Reached out after a webinar clip on social media"],
        Channel::TradeShow => &["Met at our booth, keen on a demo", "Attended our talk at the industry expo"],
        Channel::Advertising => &["Came in from a search ad", "Responded to a trade-magazine ad"],
        Channel::Telemarketing => &["Cold call, open to a follow-up", "Interested after an outbound call"],
        Channel::WebsiteForm => {
            &["Requested a trial on the website", "Downloaded the whitepaper", "Used the website chat"]
        }
        Channel::Referral => &["Referred by an existing customer", "Introduced by a partner"],
        Channel::Import => &["Imported from an event attendee list", "Imported from the old CRM"],
        Channel::Other => &["Called in directly", "Other source"],
    };
    pick(rng, if lang == Lang::Zh { zh } else { en }).to_string()
}

pub fn needs_summary(lang: Lang, rng: &mut SmallRng) -> String {
    match lang {
        Lang::Zh => {
            let pain = one(
                rng,
                &[
                    "现有系统数据分散,销售过程不透明",
                    "人工报价效率低、容易出错",
                    "客户跟进不及时导致流失",
                    "库存与订单信息不同步",
                    "跨部门协作依赖微信群和表格",
                    "管理层无法及时看到销售预测",
                    "现有供应商响应慢、售后服务差",
                    "设备老化,故障率高,影响交付",
                ],
            );
            let need = one(
                rng,
                &[
                    "统一管理客户信息与销售进度",
                    "自动化报价与审批流程",
                    "与现有 ERP 系统对接",
                    "移动端随时查看客户行为轨迹",
                    "按阶段分析转化率,找出瓶颈环节",
                    "提升产能并降低单位成本",
                    "稳定的本地化售后服务",
                ],
            );
            let intent = one(
                rng,
                &[
                    "本季度内完成选型",
                    "预算已批,计划下月试点",
                    "需向总经理汇报后决定",
                    "明年初上线,目前在比较方案",
                    "意向明确,等待采购流程",
                ],
            );
            format!("痛点:{pain};需求:{need};购买意向:{intent}。")
        }
        Lang::En => {
            let pain = one(
                rng,
                &[
                    "customer data is spread over spreadsheets, pipeline is invisible",
                    "manual quoting is slow and error-prone",
                    "follow-ups slip and prospects go cold",
                    "inventory and orders are out of sync",
                    "leadership cannot see a reliable forecast",
                    "current vendor is slow to respond",
                ],
            );
            let need = one(
                rng,
                &[
                    "one place for accounts and deal progress",
                    "automated quotes and approvals",
                    "integration with their ERP",
                    "mobile access for the field team",
                    "stage conversion reports to find bottlenecks",
                    "lower unit cost at higher volume",
                ],
            );
            let intent = one(
                rng,
                &[
                    "decision this quarter",
                    "budget approved, pilot next month",
                    "needs sign-off from the CEO",
                    "go-live early next year, comparing vendors",
                    "clear intent, waiting on procurement",
                ],
            );
            format!("Pain points: {pain}. Needs: {need}. Intent: {intent}.")
        }
    }
}

/// What is being sold, per process family, for deal titles.
pub fn product(lang: Lang, family: crate::Family, rng: &mut SmallRng) -> &'static str {
    use crate::Family;
    match (lang, family) {
        (Lang::Zh, Family::Seed | Family::Other) => one(
            rng,
            &[
                "CRM 系统采购",
                "销售管理平台建设",
                "数据分析平台",
                "营销自动化工具",
                "年度服务合同",
                "智能客服系统",
                "ERP 对接项目",
                "生产线自动化改造",
                "仓储管理系统",
                "设备采购",
            ],
        ),
        (Lang::Zh, Family::Saas) => one(rng, &["年度订阅", "团队版订阅", "企业版升级", "增购席位", "多年期订阅"]),
        (Lang::Zh, Family::Tender) => {
            one(rng, &["信息化建设项目", "智慧园区项目", "数据中心扩容项目", "采购平台建设项目", "智能工厂改造项目"])
        }
        (Lang::En, Family::Seed | Family::Other) => one(
            rng,
            &[
                "CRM rollout",
                "Sales platform",
                "Analytics platform",
                "Marketing automation",
                "Annual service contract",
                "Warehouse system",
                "Equipment purchase",
                "ERP integration",
            ],
        ),
        (Lang::En, Family::Saas) => {
            one(rng, &["Annual subscription", "Team plan", "Enterprise upgrade", "Seat expansion"])
        }
        (Lang::En, Family::Tender) => one(
            rng,
            &["IT modernisation tender", "Smart campus project", "Data centre expansion", "Procurement platform"],
        ),
    }
}

/// Why a deal was lost, by how far it got (0 early, 1 middle, 2 late).
pub fn lost_reason(lang: Lang, tier: u8, rng: &mut SmallRng) -> &'static str {
    match (lang, tier) {
        (Lang::Zh, 0) => {
            one(rng, &["无明确购买意向", "预算不足", "不是目标客户", "联系不上客户", "需求不匹配", "客户已有供应商"])
        }
        (Lang::Zh, 1) => {
            one(rng, &["需求不匹配", "选择了竞争对手", "预算不足", "决策推迟", "方案未获认可", "项目取消"])
        }
        (Lang::Zh, _) => {
            one(rng, &["价格太高", "选择了竞争对手", "决策推迟", "付款条件未谈拢", "预算被削减", "合同条款未达成一致"])
        }
        (Lang::En, 0) => one(
            rng,
            &[
                "No clear buying intent",
                "No budget",
                "Not our target customer",
                "Could not reach the contact",
                "Needs do not fit",
                "Happy with current vendor",
            ],
        ),
        (Lang::En, 1) => one(
            rng,
            &[
                "Needs do not fit",
                "Chose a competitor",
                "No budget",
                "Decision postponed",
                "Solution not accepted",
                "Project cancelled",
            ],
        ),
        (Lang::En, _) => one(
            rng,
            &[
                "Price too high",
                "Chose a competitor",
                "Decision postponed",
                "Payment terms not agreed",
                "Budget cut",
                "Contract terms not agreed",
            ],
        ),
    }
}

pub fn override_reason(lang: Lang, rng: &mut SmallRng) -> &'static str {
    match lang {
        Lang::Zh => one(
            rng,
            &[
                "客户口头已确认,书面材料后补",
                "经理批准先行推进",
                "客户时间紧,先推进后补",
                "老客户,流程从简",
                "已电话确认,稍后补录",
            ],
        ),
        Lang::En => one(
            rng,
            &[
                "Customer confirmed verbally, paperwork to follow",
                "Approved by my manager",
                "Tight timeline, will catch up on this",
                "Existing customer, lighter process",
                "Confirmed on a call, will log it later",
            ],
        ),
    }
}

pub fn disqualify_reason(lang: Lang, rng: &mut SmallRng) -> &'static str {
    match lang {
        Lang::Zh => {
            one(rng, &["无预算", "非目标行业", "联系方式无效", "个人咨询,非企业需求", "重复线索", "竞争对手打探"])
        }
        Lang::En => one(
            rng,
            &[
                "No budget",
                "Outside our market",
                "Invalid contact details",
                "Student / personal enquiry",
                "Duplicate lead",
                "Competitor fishing",
            ],
        ),
    }
}
