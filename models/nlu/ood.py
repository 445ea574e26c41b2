"""Out-of-domain utterances (the `none` class) in English and Mandarin.

Families: questions, chit-chat, trivia, weather, news, stocks, jokes, maths,
other assistants' tasks (alarms, reminders, messages, translation), word salad,
and hard negatives that share words with vehicle commands but ask for nothing
the car can do ("what temperature does water boil at", "我的窗户是哪个牌子的").

Each family is a list of templates; `{name}` draws from FILL[lang][name]. The
held-out split works on (family, template) pairs, like the in-domain data."""

from __future__ import annotations

import random
import re

FILL = {
    "en": {
        "city": ["tokyo", "paris", "london", "new york", "beijing", "shanghai", "berlin", "sydney", "chicago",
                 "seattle", "madrid", "rome", "toronto", "boston", "dubai", "singapore", "moscow", "cairo"],
        "day": ["today", "tomorrow", "tonight", "this weekend", "on monday", "next week", "on friday", "this afternoon"],
        "person": ["the president of france", "einstein", "shakespeare", "the ceo of apple", "napoleon",
                   "the prime minister", "elon musk", "taylor swift", "the king of spain", "marie curie",
                   "abraham lincoln", "the pope", "picasso", "the richest man in the world", "leonardo da vinci"],
        "thing": ["the moon", "the sun", "mount everest", "the eiffel tower", "the pacific ocean", "a blue whale",
                  "the great wall", "the amazon river", "a giraffe", "the empire state building", "jupiter",
                  "the sahara", "an elephant", "the human brain", "a hummingbird"],
        "topic": ["football", "politics", "the election", "the economy", "technology", "the olympics", "movies",
                  "science", "the world cup", "space exploration", "climate change", "basketball"],
        "company": ["apple", "tesla", "google", "microsoft", "amazon", "nvidia", "toyota", "alibaba", "tencent",
                    "netflix", "meta", "bitcoin", "ethereum", "gold", "oil"],
        "food": ["pancakes", "pizza", "sushi", "lasagna", "fried rice", "a cake", "bread", "soup", "dumplings",
                 "chocolate chip cookies", "coffee", "tea", "pasta", "tacos"],
        "n": ["two", "five", "seven", "twelve", "three", "nine", "a hundred", "forty two", "13", "8", "25", "99"],
        "op": ["plus", "minus", "times", "divided by"],
        "lang": ["spanish", "french", "german", "japanese", "chinese", "italian", "korean"],
        "phrase": ["hello", "thank you", "good morning", "where is the bathroom", "i love you", "how much is this"],
        "hobby": ["reading", "music", "movies", "sports", "cooking", "travel", "games", "dancing"],
        "animal": ["dogs", "cats", "horses", "penguins", "lions", "dolphins", "rabbits"],
        "time": ["7 am", "six thirty", "noon", "8 o'clock", "tomorrow morning", "ten minutes", "5 pm"],
        "task": ["buy milk", "call the bank", "pick up the kids", "pay the rent", "water the plants",
                 "book a table", "send the report", "take my medicine"],
        "word": ["necessary", "rhythm", "restaurant", "definitely", "pneumonia", "onomatopoeia"],
        "unit": ["miles in a kilometer", "ounces in a pound", "feet in a meter", "cups in a liter",
                 "fahrenheit is 30 celsius", "dollars is 100 euros"],
        "movie": ["star wars", "titanic", "the godfather", "inception", "frozen", "the matrix", "avatar"],
        "sport": ["the lakers", "real madrid", "the yankees", "manchester united", "the patriots", "the warriors"],
    },
    "zh": {
        "city": ["北京", "上海", "广州", "深圳", "杭州", "成都", "东京", "纽约", "巴黎", "伦敦", "武汉", "西安",
                 "重庆", "南京", "香港", "台北"],
        "day": ["今天", "明天", "后天", "今晚", "周末", "下周", "星期五", "这几天"],
        "person": ["美国总统", "爱因斯坦", "李白", "鲁迅", "马云", "姚明", "秦始皇", "牛顿", "成龙", "孔子",
                   "苹果公司的老板", "诸葛亮", "曹操", "梅西", "居里夫人"],
        "thing": ["月亮", "太阳", "珠穆朗玛峰", "长城", "长江", "黄河", "太平洋", "大熊猫", "埃菲尔铁塔",
                  "地球", "火星", "泰山", "蓝鲸", "人的大脑", "故宫"],
        "topic": ["足球", "政治", "经济", "科技", "奥运会", "电影", "世界杯", "房价", "股票", "篮球", "人工智能"],
        "company": ["茅台", "腾讯", "阿里巴巴", "比亚迪", "特斯拉", "苹果", "小米", "比特币", "黄金", "原油",
                    "宁德时代", "华为", "上证指数", "恒生指数"],
        "food": ["红烧肉", "饺子", "西红柿炒鸡蛋", "蛋糕", "麻婆豆腐", "宫保鸡丁", "包子", "火锅", "面条",
                 "糖醋排骨", "奶茶", "咖啡"],
        "n": ["一", "二", "三", "五", "七", "十二", "一百", "两", "8", "25", "三十六"],
        "op": ["加", "减", "乘以", "除以"],
        "lang": ["英文", "日语", "法语", "德语", "韩语", "西班牙语"],
        "phrase": ["你好", "谢谢", "早上好", "我爱你", "多少钱", "洗手间在哪里"],
        "hobby": ["看书", "听音乐", "看电影", "运动", "做饭", "旅游", "打游戏", "跳舞"],
        "animal": ["狗", "猫", "熊猫", "老虎", "兔子", "海豚", "企鹅"],
        "time": ["早上七点", "六点半", "中午", "八点", "明天早上", "十分钟后", "下午五点"],
        "task": ["买牛奶", "交电费", "接孩子", "开会", "给花浇水", "订餐厅", "发报告", "吃药"],
        "word": ["饕餮", "耄耋", "彳亍", "魑魅魍魉", "龃龉"],
        "unit": ["一英里是多少公里", "一磅是多少斤", "一英尺是多少米", "一加仑是多少升", "一美元换多少人民币"],
        "movie": ["流浪地球", "战狼", "哪吒", "泰坦尼克号", "阿凡达", "你好李焕英"],
        "sport": ["湖人", "皇马", "国足", "中国女排", "曼联", "勇士"],
    },
}

FAMILIES = {
    "en": {
        "weather": [
            "what's the weather like {day}", "is it going to rain {day}", "will it snow in {city} {day}",
            "how hot will it be {day}", "what's the forecast for {city}", "do i need an umbrella {day}",
            "how cold is it in {city}", "what's the temperature in {city} {day}", "is it sunny in {city}",
            "weather in {city}", "will there be a storm {day}", "what's the humidity {day}",
            "how windy is it outside", "when does the sun set {day}", "is it going to be hot {day}",
        ],
        "trivia": [
            "who is {person}", "who was {person}", "how tall is {thing}", "how far away is {thing}",
            "how old is {thing}", "what is the capital of {city}", "who invented the light bulb",
            "who wrote romeo and juliet", "when was {person} born", "how big is {thing}",
            "what's the population of {city}", "how many people live in {city}", "what language do they speak in {city}",
            "who painted the mona lisa", "what is the speed of light", "how many planets are there",
            "what's the longest river in the world", "how deep is {thing}", "why is the sky blue",
            "who discovered penicillin", "what year did world war two end", "how much does {thing} weigh",
            "who won the nobel prize in physics", "what does dna stand for", "who directed {movie}",
        ],
        "chitchat": [
            "how are you", "how are you doing {day}", "what's your name", "how old are you", "are you a robot",
            "do you like {hobby}", "do you like {animal}", "what's your favorite color", "tell me about yourself",
            "good morning", "good night", "hello", "hi there", "thanks for your help", "you're awesome",
            "i love you", "are you married", "what do you think about {topic}", "i'm bored", "i'm so tired",
            "what should i have for dinner", "do you have feelings", "who made you", "can we be friends",
            "that's funny", "never mind me i'm just talking", "i had a long day", "nice to meet you",
            "what's up", "how's it going", "goodbye", "see you later", "you're smart",
        ],
        "jokes": [
            "tell me a joke", "tell me a funny story", "say something funny", "make me laugh",
            "do you know any jokes", "tell me a riddle", "sing me a song", "tell me a bedtime story",
            "tell me a joke about {animal}", "recite a poem", "write me a poem about {topic}",
        ],
        "news": [
            "what's the news {day}", "any news about {topic}", "read me the headlines", "what happened in {city} {day}",
            "who won the game last night", "what's the score of the {sport} game", "did {sport} win",
            "latest news on {topic}", "what's trending {day}", "who won the election",
            "when is the next {sport} game", "who's playing {day}",
        ],
        "stocks": [
            "how is the stock market doing", "what's {company} stock at", "how much is {company} worth",
            "what's the price of {company}", "is {company} up or down {day}", "how did the dow do {day}",
            "should i buy {company} stock", "what's the exchange rate for the euro", "how much is a bitcoin",
            "stock price of {company}", "{company} share price", "how's the nasdaq {day}",
        ],
        "math": [
            "what's {n} {op} {n}", "calculate {n} {op} {n}", "what is the square root of {n}",
            "how many {unit}", "convert {n} miles to kilometers", "what's {n} percent of {n}",
            "is {n} a prime number", "what's {n} squared", "solve x plus {n} equals {n}",
        ],
        "assistant": [
            "set an alarm for {time}", "wake me up at {time}", "remind me to {task}", "set a timer for {time}",
            "add {food} to my shopping list", "send a text to my wife", "send a message to john saying i'm late",
            "email my boss", "what's on my calendar {day}", "schedule a meeting {day}", "translate {phrase} into {lang}",
            "how do you say {phrase} in {lang}", "how do you spell {word}", "what does {word} mean",
            "order a pizza", "book a flight to {city}", "find me a recipe for {food}", "how do you make {food}",
            "what time is it", "what time is it in {city}", "what's the date {day}", "what day is it {day}",
            "take a picture", "open instagram", "read my messages", "check my email", "start a stopwatch",
            "set a reminder for {time}", "cancel my alarm", "turn on do not disturb on my phone",
            "buy tickets for {movie}", "show me pictures of {animal}", "search the web for {topic}",
        ],
        "philosophy": [
            "what's the meaning of life", "is there a god", "what happens after we die", "are we alone in the universe",
            "what is love", "why do we dream", "what is consciousness", "does free will exist",
        ],
        "smalltalk": [
            "i think i left the stove on", "my kids are being so loud", "we're going to be late again",
            "did you see that car", "look at that sunset", "i'm hungry", "i need coffee", "that guy just cut me off",
            "this traffic is terrible", "i love this song", "what a beautiful day", "i can't believe it's monday",
            "remember to buy flowers for mom", "my back hurts", "i'm so excited for the weekend", "that was close",
            "what are we doing for dinner", "where did i put my keys", "i think it's going to be a long drive",
            "honey did you lock the front door at home", "can you believe this weather", "i miss my dog",
            "wow look at that view", "let's stop talking about work", "how was your day", "i'm not sure about that",
            "so what do you think", "yeah that makes sense", "okay", "hmm", "no way", "really", "sure thing",
        ],
        "questions": [
            "what's the difference between {food} and {food}", "is {food} healthy", "how many calories are in {food}",
            "why do {animal} sleep so much", "how long do {animal} live", "what do {animal} eat",
            "when was {thing} built", "can you see {thing} from space", "which is bigger {thing} or {thing}",
            "who is the best player on {sport}", "how much does a ticket to {city} cost", "what should i read next",
            "what movie should i watch {day}", "is {movie} a good movie", "who played in {movie}",
            "how do i fix a flat tire on my bike", "how do you tie a tie", "what's a good name for a cat",
            "what's the best way to learn {lang}", "how long does it take to fly to {city}",
        ],
        "salad": [],  # generated
        "hard": [
            "what temperature does water boil at", "what's the temperature on mars", "what is the average temperature in {city}",
            "how hot is the surface of the sun", "what's the highest temperature ever recorded",
            "windows 11 update", "how do i update windows", "is windows better than mac", "who founded microsoft windows",
            "what's the best music of all time", "who is the greatest band in music history", "what music do you like",
            "how does a radio work", "who invented the radio", "who invented the telephone", "who invented the air conditioner",
            "what's the phone number of the white house", "how much does a new phone cost", "my phone is broken",
            "why is my phone so slow", "i lost my phone", "what's your phone number",
            "how do i become a better driver", "what's the best car to buy", "how fast can a tesla go",
            "who is the best formula one driver", "how many doors does a bus have", "who designed this car",
            "what's the history of the sunroof", "how do seat belts work", "what's the best seat on a plane",
            "play is a word with four letters", "i watched a play last night", "the doors are a rock band",
            "the lights in my house are broken", "what color is the northern lights", "how far is the light from the sun",
            "how do i get a driver's license", "what's the speed limit on the highway", "how much does gas cost {day}",
            "who sang the song hotel california", "what year did the beatles break up", "who wrote bohemian rhapsody",
            "how do windshield wipers work", "what is air conditioning invented for", "is it bad to sleep with the fan on",
            "what's the volume of a sphere", "how loud is a jet engine", "what's the next big thing in tech",
            "navigation in the middle ages", "how did sailors navigate", "what's the window of opportunity",
            "how do i lock my computer", "how do i unlock my iphone", "what's in the trunk of an elephant",
            "what time does the gas station close", "is the mall open {day}", "how long is the drive to {city}",
            "how far is {city} from here", "what's the traffic like in {city}", "is the airport busy {day}",
            "do you know my mom", "who is john smith", "i called my mom yesterday", "my dad likes jazz",
            "what is a heat wave", "how do heated seats work", "why is my seat belt light on",
            "is the heater in my house on", "turn the page", "open your heart", "close your eyes and relax",
            "open a bank account", "close my bank account", "open the pod bay doors", "turn up the heat on the competition",
            "what should i name my dog", "how many windows does the white house have",
            "what's the temperature of the ocean", "what does the fox say", "who sang let it be",
        ],
    },
    "zh": {
        "weather": [
            "{day}天气怎么样", "{day}会下雨吗", "{city}{day}下雪吗", "{day}热不热", "{city}的天气预报",
            "{day}要带伞吗", "{city}现在多少度", "{city}冷不冷", "{day}有没有雾霾", "{day}空气质量怎么样",
            "{city}天气", "{day}刮风吗", "{day}几点日落", "{day}气温多少度", "{day}会不会降温",
        ],
        "trivia": [
            "{person}是谁", "{thing}有多高", "{thing}有多大", "{thing}离我们多远", "{city}的人口有多少",
            "中国的首都是哪里", "谁发明了电灯", "{person}是哪一年出生的", "世界上最长的河是哪条",
            "光速是多少", "太阳系有几颗行星", "{thing}有多重", "天为什么是蓝的", "谁写的红楼梦",
            "第二次世界大战哪年结束", "{movie}的导演是谁", "{thing}有多少年历史", "谁发现了青霉素",
            "{city}在哪个省", "世界上最高的楼是哪个", "一年有多少天",
        ],
        "chitchat": [
            "你好", "你好吗", "你叫什么名字", "你几岁了", "你是机器人吗", "你喜欢{hobby}吗", "你喜欢{animal}吗",
            "你最喜欢什么颜色", "介绍一下你自己", "早上好", "晚安", "谢谢你", "你真棒", "我爱你", "你结婚了吗",
            "你觉得{topic}怎么样", "好无聊啊", "我好累", "晚饭吃什么好", "你有感情吗", "谁创造了你",
            "我们做朋友吧", "哈哈哈太好笑了", "今天过得真累", "很高兴认识你", "在干嘛呢", "拜拜", "再见",
            "你真聪明", "你会唱歌吗", "陪我聊聊天", "我心情不好",
        ],
        "jokes": [
            "讲个笑话", "给我讲个笑话", "说个段子", "逗我笑一下", "你会讲笑话吗", "出个谜语", "唱首歌给我听",
            "讲个睡前故事", "给我讲个故事", "讲个关于{animal}的笑话", "背一首诗", "写一首关于{topic}的诗",
        ],
        "news": [
            "{day}有什么新闻", "{topic}有什么新消息", "播报一下今天的头条", "{city}{day}发生了什么",
            "昨晚的比赛谁赢了", "{sport}比赛比分多少", "{sport}赢了吗", "最近有什么热点", "热搜第一是什么",
            "{sport}下一场什么时候", "{day}有什么比赛",
        ],
        "stocks": [
            "今天股市怎么样", "{company}股价多少", "{company}今天涨了吗", "{company}现在多少钱", "大盘怎么样",
            "{company}值得买吗", "美元汇率是多少", "比特币现在多少钱", "{company}的市值是多少", "股市今天涨了吗",
            "A股今天收盘多少点", "基金怎么样了",
        ],
        "math": [
            "{n}{op}{n}等于几", "{n}{op}{n}是多少", "算一下{n}{op}{n}", "{n}的平方根是多少", "{unit}",
            "{n}是质数吗", "百分之{n}的{n}是多少", "{n}的平方是多少",
        ],
        "assistant": [
            "帮我定个{time}的闹钟", "{time}叫我起床", "提醒我{task}", "定一个{time}的计时器", "把{food}加到购物清单",
            "给老婆发个短信", "发微信给张三说我晚点到", "给老板发邮件", "我{day}有什么安排", "帮我约个会议",
            "把{phrase}翻译成{lang}", "{phrase}用{lang}怎么说", "{word}怎么读", "{word}是什么意思", "帮我点个外卖",
            "订一张去{city}的机票", "{food}怎么做", "教我做{food}", "现在几点了", "{city}现在几点", "今天几号",
            "今天星期几", "拍张照片", "打开微信", "看看我的消息", "查一下我的邮箱", "帮我订个酒店房间",
            "买两张{movie}的电影票", "给我看看{animal}的照片", "上网搜一下{topic}", "取消闹钟", "明天提醒我{task}",
        ],
        "philosophy": [
            "人生的意义是什么", "世界上有神吗", "人死后会怎样", "宇宙里有外星人吗", "什么是爱情", "人为什么会做梦",
            "什么是意识", "人有自由意志吗",
        ],
        "smalltalk": [
            "我好像忘了关煤气", "孩子们太吵了", "我们又要迟到了", "你看那辆车", "夕阳真美", "我饿了", "我想喝咖啡",
            "这个人怎么开车的", "堵车太严重了", "这首歌真好听", "今天天气真不错", "又是星期一", "记得给妈妈买花",
            "我腰好疼", "周末终于来了", "好险啊", "晚上吃什么呢", "我钥匙放哪了", "这趟路好远啊", "家里门锁了吗",
            "我想我的狗了", "风景真好", "别聊工作了", "你今天过得怎么样", "我不太确定", "你觉得呢", "有道理",
            "好的", "嗯嗯", "真的吗", "没问题", "哈哈", "算你厉害",
        ],
        "questions": [
            "{food}和{food}有什么区别", "{food}健康吗", "{food}热量高吗", "{animal}为什么睡那么久",
            "{animal}能活多少年", "{animal}吃什么", "{thing}是什么时候建的", "从太空能看到{thing}吗",
            "{thing}和{thing}哪个大", "{sport}谁最厉害", "去{city}的机票多少钱", "最近有什么好书",
            "{day}看什么电影好", "{movie}好看吗", "{movie}是谁演的", "自行车胎破了怎么补", "领带怎么系",
            "给猫起什么名字好", "怎么学好{lang}", "飞到{city}要多久",
        ],
        "salad": [],
        "hard": [
            "水的沸点是多少度", "火星上的温度是多少", "{city}的平均气温是多少", "太阳表面温度有多高", "人的正常体温是多少度",
            "我的窗户是哪个牌子的", "windows十一怎么升级", "电脑窗口怎么关", "窗外的风景真好看", "窗户是谁发明的",
            "音乐史上最伟大的乐队是谁", "你喜欢什么音乐", "学音乐难不难", "收音机是谁发明的", "电话是谁发明的",
            "空调是谁发明的", "新手机多少钱", "我的手机坏了", "手机为什么这么卡", "我手机丢了", "你的电话号码是多少",
            "怎么才能成为好司机", "买什么车好", "特斯拉最快能开多快", "谁是最好的赛车手", "公交车有几个门",
            "这辆车是谁设计的", "天窗的历史", "安全带是怎么工作的", "飞机上哪个座位最好", "驾照怎么考",
            "高速限速多少", "今天油价多少", "加州旅馆是谁唱的", "披头士哪年解散的", "雨刮器是怎么工作的",
            "开着风扇睡觉好不好", "球的体积怎么算", "飞机的声音有多大", "古代人是怎么导航的", "电脑怎么锁屏",
            "苹果手机怎么解锁", "大象的鼻子有多长", "加油站几点关门", "商场今天开门吗", "开车到{city}要多久",
            "{city}离这里有多远", "{city}堵车吗", "机场今天人多吗", "你认识我妈妈吗", "张三是谁",
            "我昨天给我妈打电话了", "我爸喜欢听京剧", "什么是热浪", "座椅加热是什么原理", "安全带灯为什么亮了",
            "家里的暖气开了吗", "翻到下一页", "打开心扉", "闭上眼睛放松一下", "开个银行账户", "注销我的银行卡",
            "给我的狗起个名字", "白宫有多少个窗户", "海水的温度是多少", "空调病怎么治", "导航软件哪个好用",
            "车门的英文怎么说", "后备箱能放几个箱子", "灯泡是谁发明的", "阅读灯和台灯有什么区别", "音量单位是什么",
            "我的车是什么颜色", "这首歌叫什么名字", "这个电台叫什么", "打开冰箱", "关上家里的灯", "把家里空调打开",
            "明天开会的材料准备好了吗", "打开电视", "把电视声音调大",
        ],
    },
}

SALAD = {
    "en": "the of and blue quickly table seven banana under river laptop singing yesterday purple elephant "
          "window music heat door phone radio open close turn light seat fan play call navigate temperature "
          "volume seventy green cloud pencil orange happy jump sky garden because maybe".split(),
    "zh": list("的了是我你他在有不这个们来到时大地为上国和说生年着就那要下以会家可也出对后小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感见明问力理尔点文几定本公特做外孩相西果走将月十实向声车全信重三机工物气每并别真打太新比才便夫再书部水像眼等体却加电主界门利海受听表德少克代员许先口由死安写性马光白或住难望教命花结乐色更拉东神记处让母父应直字场平报友关放至张认接告入笑内英军候民岁往何度山觉路带万男边风解叫任金快原吃妈变通师立象数四失满战远格士音轻目条呢病始达深完今提求清王化空业思切怎非找片罗钱吗语元喜曾离飞科言干流欢约各即指合反题必该论交终林请医晚制球决传画保读运及则房早院量苦火布品近坐产答星精视五连司巴奇管类未朋且婚台夜青北队久乎越观落尽形影红爸百令周吧识步希亚术留市半热送兴造谈容极随演收首根讲整式取照办强石古华拿计您装似足双妻尼转诉米称丽客南领节衣站黑刻统断福城故历惊脸选包紧争另建维绝树系伤示愿持千史谁准联妇纪基买志静阿诗独复痛消社算"),
}


def fill(tpl: str, lang: str, rng: random.Random) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: rng.choice(FILL[lang][m.group(1)]), tpl)


def salad(lang: str, rng: random.Random) -> str:
    n = rng.randint(2, 7) if lang == "en" else rng.randint(2, 9)
    words = [rng.choice(SALAD[lang]) for _ in range(n)]
    return (" " if lang == "en" else "").join(words)


def templates(lang: str) -> list[tuple[str, str]]:
    """Every (family, template) pair; word salad is one pseudo-template per length."""
    out = []
    for fam, tpls in FAMILIES[lang].items():
        out.extend((fam, t) for t in tpls)
    out.extend(("salad", f"<salad{k}>") for k in range(6))
    return out


def generate(pairs: list[tuple[str, str]], lang: str, n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        fam, t = rng.choice(pairs)
        out.append(salad(lang, rng) if fam == "salad" else fill(t, lang, rng))
    return out
