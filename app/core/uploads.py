from fastapi import APIRouter

router = APIRouter()


async def get_upload(session, community_id, upload_id):  # placeholder, replaced by the uploads work
    return None
